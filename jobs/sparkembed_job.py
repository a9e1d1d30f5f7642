"""spark-submit entry point for every stage: the same arguments as the ``sparkembed`` command.

spark-submit --py-files dist/sparkembed.zip jobs/sparkembed_job.py STAGE ARGS...
(``STAGE`` is any subcommand: tokenize, cooccur, train, evaluate, neighbors, export, run...)
"""

import sys

from sparkembed.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
