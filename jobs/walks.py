"""spark-submit entry point: the same arguments as `sparkembed walks`.

spark-submit --py-files dist/sparkembed.zip jobs/walks.py --help
"""

import sys

from sparkembed.cli import main

if __name__ == "__main__":
    sys.exit(main(["walks", *sys.argv[1:]]))
