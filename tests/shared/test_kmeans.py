"""sparkembed.linalg.kmeans: planted groups found, the same ids for the same seed, ids
numbered by first appearance, k capped at the number of rows."""

import numpy as np

from sparkembed.linalg.kmeans import spherical_kmeans
from sparkembed.linalg.topk import unit_rows


def planted(groups: int, per_group: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((groups, dim)) * 3
    truth = np.arange(groups * per_group) % groups
    return unit_rows(centres[truth] + 0.3 * rng.standard_normal((len(truth), dim))), truth


def test_planted_groups_are_found_and_repeat():
    x, truth = planted(6, 50, 16, seed=1)
    ids = spherical_kmeans(x, 6, seed=4)
    for c in np.unique(ids):
        assert len(np.unique(truth[ids == c])) == 1  # each cluster is one planted group
    assert len(np.unique(ids)) == 6
    assert np.array_equal(spherical_kmeans(x, 6, seed=4), ids)


def test_ids_by_first_appearance_and_k_capped():
    x, _ = planted(3, 10, 8, seed=2)
    ids = spherical_kmeans(x, 3, seed=0)
    first = [int(ids[np.flatnonzero(ids == c)[0]]) for c in dict.fromkeys(ids.tolist())]
    assert first == list(range(len(first))) and ids[0] == 0
    assert len(np.unique(spherical_kmeans(x[:2], 12, seed=0))) <= 2
    assert spherical_kmeans(x[:0], 3).shape == (0,)
