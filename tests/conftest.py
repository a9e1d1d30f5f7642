"""One SparkSession for the whole run: local[2], few shuffle partitions, UI off."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sparkembed.config import SparkConfig
from sparkembed.session import get_spark

GENSIM_DATA = None
try:  # gensim is a test extra; its wheel ships the real-data samples we test on
    import gensim.test.utils as _gtu

    GENSIM_DATA = Path(_gtu.__file__).parent / "test_data"
except ImportError:  # pragma: no cover - test extras are installed by scripts/setup.sh
    pass


@pytest.fixture(scope="session")
def spark():
    cfg = SparkConfig(master="local[2]", shuffle_partitions=4, driver_memory="2g")
    session = get_spark(cfg)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def gensim_data() -> Path:
    if GENSIM_DATA is None or not GENSIM_DATA.is_dir():
        pytest.fail("gensim test data not found: run scripts/setup.sh (installs the test extras)")
    return GENSIM_DATA


@pytest.fixture(scope="session")
def enwiki_sample(gensim_data) -> Path:
    return gensim_data / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


@pytest.fixture(scope="session")
def synthetic(gensim_data):
    from synthetic_vectors import synthetic_vectors

    return synthetic_vectors(gensim_data)


@pytest.fixture(scope="session")
def emb(synthetic):
    from sparkembed.vectors.query import Embeddings

    return Embeddings(*synthetic)


@pytest.fixture(scope="session")
def kv(synthetic):
    from gensim.models import KeyedVectors

    tokens, vectors, _ = synthetic
    model = KeyedVectors(vectors.shape[1])
    model.add_vectors(tokens, vectors)
    return model


os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
