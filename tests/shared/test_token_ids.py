import numpy as np
import pyarrow as pa
import pytest

from sparkembed.vocabulary.lookup import TokenIds

VOCAB = pa.array(["the", "of", "paris", "été"])


def test_plain_strings_with_nulls_and_unknown_tokens():
    ids = TokenIds(VOCAB)(pa.array(["paris", None, "london", "the", "été", "Paris"]))
    assert ids.dtype == np.int64
    assert ids.tolist() == [2, -1, -1, 0, 3, -1]


def test_dictionary_strings_match_plain_strings():
    tokens = pa.array(["of", "x", None, "of", "the", None, "paris"])
    encoded = tokens.dictionary_encode()
    assert pa.types.is_dictionary(encoded.type)
    lookup = TokenIds(pa.chunked_array([VOCAB[:2], VOCAB[2:]]))
    assert lookup(encoded).tolist() == lookup(tokens).tolist() == [1, -1, -1, 1, 0, -1, 2]


def test_repeated_token_is_refused():
    with pytest.raises(ValueError, match="repeated token"):
        TokenIds(pa.array(["a", "b", "a"]))
