"""spark-submit entry point: the same arguments as `sparkembed tokenize`.

spark-submit --py-files dist/sparkembed.zip jobs/tokenize.py --help
"""

import sys

from sparkembed.cli import main

if __name__ == "__main__":
    sys.exit(main(["tokenize", *sys.argv[1:]]))
