"""spark-submit entry point: the same arguments as `sparkembed neighbors`.

spark-submit --py-files dist/sparkembed.zip jobs/neighbors.py --help
"""

import sys

from sparkembed.cli import main

if __name__ == "__main__":
    sys.exit(main(["neighbors", *sys.argv[1:]]))
