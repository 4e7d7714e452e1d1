"""``tools/nin-repack IN.nin OUT.nin [--quad-weights | --no-quad-weights]``: rewrite a `.nin`
file with or without the quad-blocked copy of its convolution weights (format 1.2,
docs/FORMAT.md), everything else unchanged.  The file is read and fully validated first
(:func:`nin_tools.model_format.read`), so a copy that disagrees with the weights is refused."""

from __future__ import annotations

import argparse
import sys

from . import model_format as fmt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="nin-repack", description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="the .nin file to read")
    ap.add_argument("output", help="the .nin file to write")
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--quad-weights", dest="quads", action="store_true",
                       help="add the quad-blocked weights (read in place by the quad kernel families)")
    group.add_argument("--no-quad-weights", dest="quads", action="store_false",
                       help="drop them (the format 1.1 layout)")
    args = ap.parse_args(argv)
    try:
        model = fmt.read(args.source)
    except (OSError, fmt.NinFormatError) as e:
        print(f"nin-repack: error: {args.source}: {e}", file=sys.stderr)
        return 1
    for layer in model.layers:
        layer.quad_weights = args.quads and layer.op == "conv"
    data = fmt.to_bytes(model)
    try:
        with open(args.output, "wb") as f:
            f.write(data)
    except OSError as e:
        print(f"nin-repack: error: {args.output}: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}: {len(data)} bytes, format 1.{data[6]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
