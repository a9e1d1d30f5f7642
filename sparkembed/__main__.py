import sys

from sparkembed.cli import main

sys.exit(main())
