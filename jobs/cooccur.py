"""spark-submit entry point: the same arguments as `sparkembed cooccur`.

spark-submit --py-files dist/sparkembed.zip jobs/cooccur.py --help
"""

import sys

from sparkembed.cli import main

if __name__ == "__main__":
    sys.exit(main(["cooccur", *sys.argv[1:]]))
