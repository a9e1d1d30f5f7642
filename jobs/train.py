"""spark-submit entry point: the same arguments as `sparkembed train`.

spark-submit --py-files dist/sparkembed.zip jobs/train.py --help
"""

import sys

from sparkembed.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
