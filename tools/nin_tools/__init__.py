"""nin_tools: the Python side of nin that is not the runtime binding (numpy only at import).

- :mod:`nin_tools.model_format`  the ``.nin`` reader, writer and validator (docs/FORMAT.md)
- :mod:`nin_tools.reference`     the integer pipeline in numpy: the executable spec
                                 (docs/QUANTIZATION.md)
- :mod:`nin_tools.preprocess`    image preparation (docs/PREPROCESSING.md)
- :mod:`nin_tools.float_graph`   the float32 source graph of a network, folding and forward pass
- :mod:`nin_tools.convert`       nin-convert: importers (PyTorch, ONNX), calibration,
                                 quantization and the command line
- :mod:`nin_tools.png_read`, :mod:`nin_tools.png_write`  an independent PNG codec for tests
- :mod:`nin_tools.fashion_mnist` the Fashion-MNIST IDX files
- :mod:`nin_tools.runtime`       imports the runtime binding (``nin``) for the tools that run it
- :mod:`nin_tools.bench`         ``make bench``'s benchmark (``tools/bench.py``), one part a module

The scripts beside this package in ``tools/`` import it directly (Python puts a script's
folder first on the import path); anything else puts ``tools/`` on ``PYTHONPATH``, as the
``tools/nin-convert`` and ``tools/nin-info`` launchers, tools/make_models.sh and pytest.ini do.
The runtime's own Python package is ``nin`` (bindings/python); nothing here shadows it.
"""
