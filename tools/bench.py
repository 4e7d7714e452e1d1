#!/usr/bin/env python3
"""nin against its peers on the same weights: latency, throughput, agreement, cold start.

The command of `make bench` (bench/README.md); the benchmark is the package
tools/nin_tools/bench/, whose docstring says what it measures and which module owns each part.
``python3 tools/bench.py --help`` lists the options.
"""

import sys

from nin_tools.bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
