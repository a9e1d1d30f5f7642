"""spark-submit entry point: the same arguments as `sparkembed export`.

spark-submit --py-files dist/sparkembed.zip jobs/export.py --help
"""

import sys

from sparkembed.cli import main

if __name__ == "__main__":
    sys.exit(main(["export", *sys.argv[1:]]))
