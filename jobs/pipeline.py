"""spark-submit entry point for a whole pipeline: the same arguments as `sparkembed run`."""

import sys

from sparkembed.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
