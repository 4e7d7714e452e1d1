"""``python -m nin IMAGE... [--model PATH] [--top K] [--json]``: see :mod:`nin._cli`."""

import sys

from ._cli import main

sys.exit(main())
