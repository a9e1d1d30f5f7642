"""spark-submit entry point: the same arguments as `sparkembed evaluate`.

spark-submit --py-files dist/sparkembed.zip jobs/evaluate.py --help
"""

import sys

from sparkembed.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
