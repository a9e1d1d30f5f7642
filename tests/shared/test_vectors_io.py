import numpy as np

from sparkembed.tables import read_metadata
from sparkembed.vectors.table import load_vectors, write_vectors


def test_spark_write_pyarrow_read_round_trip(spark, tmp_path):
    rows = [("the", [1.0, 2.0, 2.0], 10), ("cat", [0.5, -0.5, 0.0], 3), ("a", [3.0, 0.0, 4.0], 10)]
    df = spark.createDataFrame(rows, "token string, vector array<double>, count long")
    out = str(tmp_path / "vectors")
    write_vectors(df, out, dim=3, method="test", params={"x": 1}, lang="en")
    vs = load_vectors(out)
    assert vs.tokens == ["a", "the", "cat"]  # count desc, then token
    np.testing.assert_array_equal(
        vs.vectors, np.array([[3, 0, 4], [1, 2, 2], [0.5, -0.5, 0]], dtype=np.float32)
    )
    assert vs.counts.tolist() == [10, 10, 3]
    meta = read_metadata(spark, out)
    assert meta["dim"] == 3 and meta["method"] == "test" and meta["counts"]["vectors"] == 3
    norms = {r["token"]: r["norm"] for r in spark.read.parquet(out).collect()}
    assert norms == {"a": 5.0, "the": 3.0, "cat": np.float32(np.sqrt(0.5))}
    schema = {f.name: f.dataType.simpleString() for f in spark.read.parquet(out).schema}
    assert schema == {
        "token": "string",
        "vector": "array<float>",
        "count": "bigint",
        "norm": "float",
        "lang": "string",
    }
