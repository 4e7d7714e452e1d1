"""nin against its peers on the same weights: latency, throughput, agreement, cold start.

The report starts with the machine: CPU model and which of the flags that decide the kernels
(avx2, fma, avx512f, avx512bw, avx512vl, avx512_vnni, avx_vnni, amx_tile, amx_int8)
/proc/cpuinfo lists.  For every model compared (``--models``; by default
``models/fashion_small.nin`` if present and the classic 227x227 NiN:
``models/fashion_classic.nin`` if present, else a random-weight one written to
``.build/bench/classic_random.nin`` by ``tools/make_bench_model.py``):

1. Peers from the SAME weights.  The ``.nin`` is dequantized (``w = int8 * weight_scale[o]``,
   ``b = bias * s_in * weight_scale[o]``) into an fp32 ONNX graph built with ``onnx.helper``
   (NCHW Conv with the layer's pads/strides, Relu, MaxPool/AveragePool, GlobalAveragePool,
   Flatten); its top-1 is checked against nin on a few images.  That graph is then quantized
   by ``onnxruntime.quantization.quantize_static`` (QDQ, per-channel, activations QUInt8,
   weights QInt8, MinMax calibration on 100 Fashion-MNIST training images prepared for the
   model).  With OpenVINO importable, that same QDQ model compiled by OpenVINO for the CPU
   (INFERENCE_NUM_THREADS = threads, latency hint, one stream, its default precision for the
   non-quantized parts).  With PyTorch importable, the fp32 graph as a ``torch.nn.Sequential``.
2. nin's kernel families: every ``NIN_ISA`` value (the cases of ``KernelFamilyID`` in
   Sources/NiN/Kernels/KernelFamilyID.swift) is tried with ``nin-infer --profile 1``, whose first
   line names the family that really ran; a family the CPU lacks falls back to another and is
   skipped with the reason (e.g. "the CPU lacks avx_vnni").
3. Latency: batch 1 at 1 and 2 threads, batch 16 at 2 threads.  nin is timed by
   ``bench/nin_bench.c`` (compiled into ``.build/bench/``: a C loop around
   ``nin_run_prepared_u8``, no Python in the timed region): its default family in every
   configuration, and each other family of this machine at batch 1 (one table row each; a
   family slower than SLOW_FAMILY_MS per image, such as the generic reference kernels, gets one
   warm-up and one timed run per round).  ONNX Runtime int8 and fp32 (intra-op threads set,
   inter-op 1, sequential, all graph optimizations), OpenVINO int8 and PyTorch fp32 are timed
   around ``session.run`` / ``request.infer`` / ``module(x)``.  Medians of ``--runs`` (50;
   20 with ``--quick``) runs per engine, taken in ROUNDS interleaved rounds, each engine warmed
   up in every round.  Every row gets its ratio to ORT int8 (and to OpenVINO int8) in the same
   configuration: below 1, faster.
4. Top-1 agreement with the fp32 ONNX model on the first 1,000 Fashion-MNIST test images and
   on all 10,000 (``--agree-images``; 1,000 with ``--quick``): nin int8 (libnin through the
   Python package, ``nin_run_prepared_u8`` on batches), ORT int8 and OpenVINO int8; accuracy
   against the labels, and the logit RMSE against fp32.  Also: nin's logits are checked bit for
   bit against the numpy reference (``nin_tools.reference``) on two images.
5. Cold start of ``.build/release/nin-infer --model M IMAGE`` (fresh process each time, median
   wall time; peak RSS from ``/usr/bin/time -v``); skipped by ``--quick``.
6. Instructions of ONE inference (batch 1, 1 thread) under ``valgrind --tool=callgrind``, the
   noise-free figures to track.  valgrind's virtual CPU hides AVX-512, AVX-VNNI and AMX, so
   both engines run AVX2 code there.  nin: nin_bench with runs=2 minus runs=1, collection
   toggled on ``nin_run_prepared_u8``, for each family valgrind runs (checked with
   ``nin-infer --profile 1`` under ``valgrind --tool=none``; slow families skipped).  ONNX
   Runtime int8: a Python process runs the QDQ session 1 and 6 times, only those runs
   instrumented (``bench/callgrind_region.c``, ``--instr-atstart=no``), and the difference / 5.
   Printed with the instructions per MAC and nin's AVX2 count / ORT's (issue 10's goal: at
   most 0.75x).  ``--callgrind-only`` prints just these (about a minute for the classic model).
7. With ``--openvino-profile``: OpenVINO's per-layer profile (PERF_COUNT, batch 1, 1 thread),
   the slowest layers first; then layer by layer beside nin's ``nin-infer --profile``, with each
   convolution's share of nin's measured peak (``tools/nin_tools/layer_profile.py``).
8. ``bench/out/results.json`` (``callgrind.json`` with ``--callgrind-only``) and, with
   matplotlib, ``bench/out/latency.png``.

    python tools/bench.py                       # what `make bench` runs
    python tools/bench.py --quick               # a few minutes: 20 runs, 1,000 images, no cold start
    python tools/bench.py --callgrind-only      # nin AVX2 vs ORT int8 instructions, classic model
    python tools/bench.py --models a.nin b.nin --runs 100 --no-callgrind

Needs numpy, onnx and onnxruntime (``pip install onnxruntime onnx``); openvino, torch and
matplotlib are optional; valgrind is optional (the instruction counts are skipped without it).

The package, one part a module (tools/bench.py is its command; nothing is imported here, so
that the bench kit's engines.py can take :mod:`.timing` alone):

- :mod:`.cli`        the command line, the default models and image, the two modes
- :mod:`.model`      one model benchmarked (the whole run, or its instruction counts alone)
- :mod:`.peers`      the fp32 ONNX graph, ORT int8 QDQ and PyTorch built from the .nin weights
- :mod:`.libnin`     libnin through the nin Python package (agreement only)
- :mod:`.nin_bench`  bench/nin_bench.c, built and run: nin's timings
- :mod:`.timing`     the timing loop of the peers (and of bench/kit/engines.py)
- :mod:`.latency`    every engine in each configuration, interleaved rounds
- :mod:`.families`   the CPU's flags and nin's kernel families on this machine
- :mod:`.machine`    the machine and software versions recorded in the results
- :mod:`.agreement`  top-1 agreement, accuracy and logit RMSE against fp32
- :mod:`.coldstart`  fresh-process wall time and peak RSS
- :mod:`.callgrind`  instructions of one inference under callgrind (nin and ORT int8)
- :mod:`.openvino`   OpenVINO on the QDQ model, and its per-layer profile beside nin's
- :mod:`.report`     the printed table and the latency chart
- :mod:`.common`     the folders, the engines' names and the progress log
"""
