"""nin-convert as a library: a trained NiN-family network (PyTorch state_dict or ONNX) ->
calibrated ``.nin``.

One module per step: :mod:`.pytorch` and :mod:`.onnx_import` (importers to the float graph of
:mod:`nin_tools.float_graph`), :mod:`.lowering` (folding, grouping into layers),
:mod:`.calibration` (images and activation ranges), :mod:`.quantization` (integer layers),
:mod:`.check` (`--check DIR`: the written file against the float source),
:mod:`.report` (the printed table) and :mod:`.cli` (the command line, ``tools/nin-convert``).
The names below are the entry points; everything else is reached through its module.
"""

from nin_tools.convert.cli import build_model, main
from nin_tools.convert.errors import ConvertError
from nin_tools.convert.onnx_import import graph_from_onnx
from nin_tools.convert.pytorch import graph_from_state_dict, load_torch_source

__all__ = ["ConvertError", "graph_from_onnx", "graph_from_state_dict", "load_torch_source",
           "build_model", "main"]
