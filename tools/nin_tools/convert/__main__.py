"""``python3 -m nin_tools.convert``: the nin-convert command line (nin_tools.convert.cli)."""

import sys

from nin_tools.convert.cli import main

sys.exit(main())
