"""``python -m nin [OPTIONS] INPUT...``, nin-infer's inputs, options and output: see :mod:`nin._cli`."""

import sys

from ._cli import main

sys.exit(main())
