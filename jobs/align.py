"""spark-submit entry point: the same arguments as `sparkembed align`.

spark-submit --py-files dist/sparkembed.zip jobs/align.py --help
"""

import sys

from sparkembed.cli import main

if __name__ == "__main__":
    sys.exit(main(["align", *sys.argv[1:]]))
