"""spark-submit entry point: the same arguments as `sparkembed tokenize`.

spark-submit --jars .jars/sparkembed-udfs.jar --py-files dist/sparkembed.zip jobs/tokenize.py --help

(--jars: the JVM cleaning/tokenising engine built by scripts/setup.sh; without it,
tokenize.engine = "auto" falls back to the slower Spark SQL engine.)
"""

import os
import sys

# spark-submit puts jobs/ first on sys.path, where tokenize.py would shadow the stdlib module.
_here = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != _here]

from sparkembed.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["tokenize", *sys.argv[1:]]))
