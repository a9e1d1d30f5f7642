import pytest

from sparkembed.commands.doctor import check_graphframes
from sparkembed.config import SparkConfig
from sparkembed.session import find_jars

# The JARs come from Maven Central through scripts/setup.sh; where the registry does not
# serve them (this project's build machines, see README "GraphFrames"), say so loudly.
# (.jars/ also holds sparkembed's own UDF JAR: only GraphFrames' count here.)
HAVE_JARS = any(j.name.startswith("graphframes") for j in find_jars(SparkConfig()))


@pytest.mark.skipif(
    not HAVE_JARS, reason="GraphFrames JARs not in .jars/ (Maven Central did not serve them)"
)
def test_graphframes_triangle_count(spark):
    ok, detail = check_graphframes(spark)
    assert ok, detail


def test_graphframes_check_reports_missing_jar(spark):
    if HAVE_JARS:
        pytest.skip("JARs present")
    ok, detail = check_graphframes(spark)
    assert not ok and detail
