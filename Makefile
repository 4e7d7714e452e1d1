# nin: build, demo, tests, models.
#   make demo    build and classify the shipped example images with the shipped model
#   make test    every test: Swift (swift test), C (bindings/c, its examples too), Python (tools/,
#                bindings/python) and nin-infer (Tests/cli, with pytest); builds the Embedded
#                library too (make embedded), so hosted-only Swift cannot creep into the engine
#   make lib     build libnin.so (release, Swift runtime linked in: no libswift* at run time)
#   make install PREFIX=DIR   libnin.so.VERSION + symlinks, nin.h, nin.pc, bin/nin-infer, share/nin/models
#   make uninstall PREFIX=DIR remove what install put there
#   make models  retrain-free: convert the committed checkpoint(s) to .nin and export example images
#   make golden  regenerate every golden test vector (numpy reference) and the PNG fixtures
#   make sanitize  the Swift tests under AddressSanitizer and ThreadSanitizer, the C tests under
#                  ASan + UBSan, valgrind memcheck, and a fuzzing smoke run (CI runs it)
#   make fuzz      both libFuzzer targets for SECONDS (default 60) each (docs/SECURITY.md)
#   make stress    8 threads x 2,000 runs on one model; RSS flat over RSS_RUNS runs (CI runs it)
#   make test-portable  the Swift tests with every x86 kernel family compiled out (as on arm64)
#   make test-cpus the Swift, C and nin-infer tests on emulated CPUs of each class (qemu-x86_64
#                  -cpu Nehalem: portable family; Haswell: avx2), on any x86-64 host (CI runs it)
#   make heatmaps  regenerate the README's class heatmaps of the example images (docs/heatmaps/)
#   make bench   nin against ONNX Runtime (and PyTorch) on the same weights: latency, agreement, cold start
#   make bench-bulk  nin-infer over 10,000 PNGs in a folder against the engine's batch throughput
#   make mutants mutation testing: every mutant of tools/mutants.py must be killed (slow; not CI)
#   make eval    Fashion-MNIST test-set accuracy of the shipped model, through the runtime
#   make kernel-check  every kernel family this CPU runs (and the AMX emulator) against the reference
#                      on random and classic-NiN convolutions; a static binary for other machines
#   make embedded      libnin.so, libnin.a, nin-infer and nin-kernel-check built with Embedded
#                      Swift (no Swift runtime, no libstdc++), same sources, .build-embedded/release/
#   make test-embedded the C suites (bindings/c) against that library, and what it links
#   make bench-embedded the Embedded build against the hosted one: library size, nin-infer's peak
#                      RSS and cold start (tools/embedded/goals.py), nin_bench latency (bench.sh)
#   make wasm          web/nin.wasm: Embedded Swift for wasm32, one thread, no files (web/nin.js loads it)
#   make test-wasm     web/nin.js and nin.wasm in Node against the native build (node --test Tests/wasm),
#                      and the demo page in headless Chromium (selenium)
#   make wasm-screenshot  the README's screenshot of the demo page (docs/browser-demo.png)
#   make serve         the demo page (web/index.html, nin.wasm in a Web Worker) on 127.0.0.1:PORT
#   make bench-wasm    nin.wasm in Node and Chromium against the native library, interleaved rounds
#   make peak-wasm     the wasmrelaxed inner step's peak GMAC/s in Node, Chromium and natively (AVX2), and
#                      the least time the classic model's multiply-adds take at each (tools/wasm/peak.sh)
#   make mcu           .build-mcu/nin-mcu.elf: Cortex-M firmware (qemu mps2-an386/an500), the small model
#                      in flash, a static arena, no heap (tools/mcu/build.sh)
#   make test-mcu      that firmware under qemu-system-arm on both boards: logits bit for bit with the host's;
#                      and nin-mcu-check.elf: 300 random convolutions, cortexm against the reference on the board
#   make bench-mcu     its flash, RAM and instructions per inference (tools/mcu/bench.py)
#   make bench-workers 4 processes loading the classic model: RSS, PSS and private memory per worker,
#                      the shipped file against one with quad weights read in place (bench/nin_workers.c)
#   make arm64         the same Embedded build cross-compiled for aarch64 Linux, .build-arm64/release/
#   make test-arm64    that build under qemu-aarch64 on emulated arm64 CPUs of each class: the family
#                      each picks, nin-kernel-check, nin-infer byte for byte against the x86-64 one
#   make bench-arm64   instructions per inference under qemu-aarch64 (TCG plugin): each arm64 family
#                      against ONNX Runtime's arm64 CPU provider (its aarch64 wheel), per CPU model
#   make bench-kit     .build/bench-kit/: static binaries, libnin.so, models and bench/kit/run.sh, to
#                      measure every family on a machine without Swift (bench/README.md, "Elsewhere")
SWIFT_RELEASE := swift build -c release -Xswiftc -static-stdlib
PYTHON        ?= python3
RELEASE       := .build/release
MODEL         ?= models/fashion_classic.nin
PREFIX        ?= /usr/local
# The library's ABI version (its SONAME is libnin.so.$(SOVERSION)): NIN_VERSION_MAJOR of nin.h.
SOVERSION     := $(shell sed -n 's/^\#define NIN_VERSION_MAJOR \([0-9]*\).*/\1/p' include/nin.h)
IMAGES        := $(wildcard examples/images/*.png)
# The runtime binding of this checkout, for the tools that run nin (tools/nin_eval.py, bench*.py);
# the tools' own package (tools/nin_tools) is found beside the scripts, and pytest.ini gives
# pytest both.
WITH_BINDING  := PYTHONPATH=$(CURDIR)/bindings/python$${PYTHONPATH:+:$$PYTHONPATH}

all: lib cli

lib:
	$(SWIFT_RELEASE) --product nin
	ln -sf libnin.so $(RELEASE)/libnin.so.$(SOVERSION)

# nin-infer is a fully static executable (no dynamic relocations at start: faster and smaller,
# RSS 10.9 -> 7.9 MB), built in its own folder since its flags differ, then copied beside libnin.so.
cli: lib
	swift build -c release -Xswiftc -static-executable -Xlinker -lz --product nin-infer --scratch-path .build-cli
	cp .build-cli/release/nin-infer $(RELEASE)/nin-infer

# nin-kernel-check: fully static like nin-infer (no Swift toolchain or Foundation needed at run
# time: copy .build-kernel-check/release/nin-kernel-check to a machine and run it there).
kernel-check:
	swift build -c release -Xswiftc -static-executable --product nin-kernel-check --scratch-path .build-kernel-check
	.build-kernel-check/release/nin-kernel-check

# What bench/kit/run.sh needs on a machine without Swift (libpng16 and libc are all it links):
# nin-infer and nin-kernel-check (static), libnin.so.0 and nin_bench, the classic model, the
# example images, and make bench's QDQ model of it (built with bench.py --peers-only if missing:
# needs onnx, onnxruntime and Fashion-MNIST). With
# BASE=<commit> also that commit's nin-infer (built in a scratch worktree), timed against this one;
# with OPENVINO=<python version> (3.12) OpenVINO's CPU parts for that CPython, for a machine
# that cannot pip install. The binaries are stripped, and the whole kit is also packed as
# .build/bench-kit.tar.xz (one file to copy).
KIT := .build/bench-kit
bench-kit: cli
	swift build -c release -Xswiftc -static-executable --product nin-kernel-check --scratch-path .build-kernel-check
	rm -rf $(KIT) && mkdir -p $(KIT)/images
	cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/nin_bench.c -o $(KIT)/nin_bench -L$(RELEASE) -lnin -Wl,-rpath,'$$ORIGIN'
	cp $(RELEASE)/libnin.so $(KIT)/libnin.so.$(SOVERSION)
	cp .build-cli/release/nin-infer .build-kernel-check/release/nin-kernel-check bench/kit/run.sh bench/kit/engines.py $(KIT)/
	cp tools/nin_tools/layer_profile.py tools/nin_tools/bench/timing.py $(KIT)/
	cp models/fashion_classic.nin $(KIT)/ && cp $(IMAGES) $(KIT)/images/
	[ -n "$$(ls .build/bench/peers/*fashion_classic*/int8_qdq.onnx 2>/dev/null)" ] || $(WITH_BINDING) $(PYTHON) tools/bench.py --peers-only
	-cp $$(ls -t .build/bench/peers/*fashion_classic*/int8_qdq.onnx 2>/dev/null | head -1) $(KIT)/int8_qdq.onnx
	if [ -n "$(BASE)" ]; then bench/kit/build_base.sh "$(BASE)" $(KIT)/base; fi
	if [ -n "$(OPENVINO)" ]; then python3 bench/kit/openvino_slim.py "$(OPENVINO)" $(KIT)/openvino.tar.xz; fi
	strip $(KIT)/nin-infer $(KIT)/nin-kernel-check $(KIT)/libnin.so.0 $$(ls $(KIT)/base/nin-infer 2>/dev/null)
	tar -C .build -cJf .build/bench-kit.tar.xz bench-kit
	@du -sh $(KIT) .build/bench-kit.tar.xz

demo: cli
	$(RELEASE)/nin-infer --top 3 $(IMAGES)

deps:
	.ci/deps

test: deps
	$(MAKE) test-swift embedded test-c test-python

# The Swift suite runs twice: with the best kernels for this CPU, and with NIN_ISA=generic.
# Each run shows which kernel families the comparison tests ran and which were skipped, with
# the reason (a family the CPU has cannot be skipped: that test fails), and every skipped test.
test-swift: .build/kernels.stamp
	@mkdir -p .build
	@for isa in auto generic; do \
	  echo "swift test (NIN_ISA=$$isa)"; \
	  NIN_ISA=$$isa swift test 2>&1 | tee .build/swift-test-$$isa.log | grep -E '^(✔ Test run|✘)|Test Suite .All tests|error:|^kernel families:| skipped'; \
	  grep -q '✔ Test run with' .build/swift-test-$$isa.log || exit 1; \
	  grep -q '^kernel families: ' .build/swift-test-$$isa.log || { echo "no 'kernel families' line: the family test did not run"; exit 1; }; \
	done

# The whole Swift suite as a host without x86-64 builds it: every x86 kernel family compiled out
# (NIN_PORTABLE=1 in Package.swift), so the portable family runs (and is compared with the
# reference kernels); its own build folder.
test-portable: .build/kernels.stamp
	@mkdir -p .build
	NIN_PORTABLE=1 swift test --scratch-path .build-portable 2>&1 | tee .build/swift-test-portable.log | grep -E '^(✔ Test run|✘)|error:|^kernel families:| skipped'; \
	grep -q '✔ Test run with' .build/swift-test-portable.log
	@grep -q '^kernel families: portable tested, generic tested' .build/swift-test-portable.log || { echo "test-portable: the portable family was not tested"; exit 1; }
	@if ls -d .build-portable/*/NiNAVX2.build .build-portable/*/NiNAVXVNNI.build .build-portable/*/NiNAVX512VNNI.build .build-portable/*/NiNAMX.build 2>/dev/null; then \
	  echo "test-portable: an x86 kernel target was built"; exit 1; fi

# Every x86-64 CPU class on any host: Tests/cpus/run.sh runs the Swift test binary, nin-infer,
# nin-kernel-check and the C tests that time nothing under qemu-x86_64 -cpu Nehalem (SSE4.2, no
# AVX: the portable family) and Haswell (AVX2, no AVX-512: avx2), asserting the family each
# reports and nin-infer's output byte for byte against the host's. CPUS="Model:family ..."
# chooses others.
CPUS ?=
test-cpus: deps .build/kernels.stamp cli
	swift build --build-tests
	swift build -c release -Xswiftc -static-executable --product nin-kernel-check --scratch-path .build-kernel-check
	$(MAKE) -C bindings/c all
	Tests/cpus/run.sh $(CPUS)

# A debug build's incremental driver does not recompile a kernel family target when only the
# bodies of @inlinable code it inlines from Sources/NiNKernelCore change, so its kernels would
# keep the old code (docs/ARCHITECTURE.md, "Building"): after such an edit, touch its sources.
.build/kernels.stamp: $(wildcard Sources/NiNKernelCore/*.swift Sources/NiNAVX2/*.swift)
	@mkdir -p .build
	touch $(filter-out Sources/NiNKernelCore/%,$(wildcard Sources/NiN*/*.swift)) $@

test-c: lib
	$(MAKE) -C bindings/c test MODEL=$(abspath $(MODEL))

# Embedded Swift (docs/ARCHITECTURE.md, "Embedded Swift"): the engine, every x86 kernel family,
# the PNG loader and the C API compiled without the Swift runtime by tools/embedded/build.sh, one
# swiftc run per target (whole-module, each with its own -m flags). Not what `make lib` ships.
# Rebuilt when a source, the C API's header or export list, or the script changes (make test
# builds it, and test-embedded after it in CI finds it done); nin-kernel-check is what the
# script links last, so a run that failed half-way is not taken for a finished one.
EMBEDDED := .build-embedded/release
embedded: $(EMBEDDED)/nin-kernel-check
$(EMBEDDED)/nin-kernel-check: tools/embedded/build.sh include/nin.h $(shell find Sources -name '*.swift' -o -name '*.c' -o -name '*.h' -o -name '*.map')
	tools/embedded/build.sh .build-embedded

# The whole C suite of bindings/c (api, no_malloc, threads, fork, shared_context, paths, the
# examples, install, README, stress, valgrind memcheck) against the Embedded library, which must export exactly nin.h's
# functions and need only libc, libm, libpng and zlib (check_needed.sh); then the Embedded
# nin-infer against the hosted one, byte for byte (tools/embedded/compare_cli.sh), and the
# Embedded nin-kernel-check (every family this CPU runs against the reference); then the Python
# binding's own tests with the Embedded library ($NIN_LIBRARY: it loads either build; about 30 s).
BINDING_TESTS := test_library.py test_errors.py test_results.py test_paths.py test_constants.py test_isa_fallback.py
test-embedded: embedded cli
	bindings/c/tests/check_needed.sh $(EMBEDDED)/libnin.so
	$(MAKE) -C bindings/c test test-stress memcheck LIBDIR=$(abspath $(EMBEDDED)) BUILD=$(abspath .build-embedded/c) MODEL=$(abspath $(MODEL))
	tools/embedded/compare_cli.sh $(EMBEDDED)/nin-infer $(RELEASE)/nin-infer
	$(EMBEDDED)/nin-kernel-check
	NIN_LIBRARY=$(abspath $(EMBEDDED))/libnin.so $(PYTHON) -m pytest -q $(addprefix bindings/python/tests/,$(BINDING_TESTS))

# Issue 23's goals, hosted against Embedded, as the table docs/ARCHITECTURE.md quotes (medians of
# interleaved runs; the host CPU named): libnin.so's stripped size and text, nin-infer's peak RSS
# and cold start for one image, then nin_bench latency (b1 1T, b1 2T, b16 2T).
bench-embedded: lib cli embedded
	$(PYTHON) tools/embedded/goals.py
	tools/embedded/bench.sh

# Issue 26's shared weights: WORKERS processes (4) each load the classic model and classify one
# image, measured while all are alive (bench/nin_workers.c, tools/bench_workers.py): the shipped
# file (format 1.1, repacked by the family) against a copy with quad weights (1.2, read in place
# from the shared mapping), on the Embedded library.
WORKERS ?= 4
bench-workers: embedded
	@mkdir -p .build/bench
	cc -O2 -std=c11 -Wall -Iinclude bench/nin_workers.c -o .build/bench/nin_workers -L$(EMBEDDED) -lnin -Wl,-rpath,$(abspath $(EMBEDDED))
	tools/nin-repack $(MODEL) .build/bench/fashion_classic.quad.nin --quad-weights
	$(PYTHON) tools/bench_workers.py .build/bench/nin_workers $(MODEL) .build/bench/fashion_classic.quad.nin --workers $(WORKERS)

# WebAssembly: web/nin.wasm, the engine, the portable family and the C API in Embedded Swift for
# wasm32 on the single-threaded, file-less platform backend (tools/wasm/build.sh), for web/nin.js.
wasm:
	tools/wasm/build.sh web/nin.wasm

# nin.js and nin.wasm in Node against the native build (Tests/wasm: logits bit for bit on the
# example images, bad inputs, memory over 1,000 runs); the native side from the Python binding.
# Then the demo page in headless Chromium (Tests/wasm/browser_test.py: top-1 as nin-infer's, and
# a screenshot in .build/wasm/).
test-wasm: deps wasm cli
	$(WITH_BINDING) $(PYTHON) tools/wasm/make_fixtures.py .build/wasm/fixtures.json
	node --test Tests/wasm/
	node --experimental-wasm-relaxed-simd --test Tests/wasm/
	$(PYTHON) Tests/wasm/browser_test.py

# The README's screenshot of the demo page (docs/browser-demo.png), from the browser test.
wasm-screenshot: deps wasm cli
	$(PYTHON) Tests/wasm/browser_test.py --update-docs

# The demo page (web/index.html) on http://127.0.0.1:$(PORT)/web/ (PORT default 8000).
PORT ?= 8000
serve: wasm
	@echo "nin demo: http://127.0.0.1:$(PORT)/web/"
	$(PYTHON) -m http.server --bind 127.0.0.1 --directory $(CURDIR) $(PORT)

# nin.wasm and nin-relaxed.wasm in Node and headless Chromium against the native library (best
# family and portable) and ONNX Runtime native int8 (when installed), one thread, batch 1,
# interleaved rounds (tools/wasm/bench.sh: ROUNDS, RUNS).
bench-wasm: deps wasm lib cli
	tools/wasm/bench.sh $(or $(ROUNDS),5) $(or $(RUNS),50)

# The ceiling of the wasmrelaxed kernels on this CPU: their inner step alone (tools/wasm/peak_wasm.c)
# in Node and headless Chromium, the same x86 step natively at 128 and 256 bits (peak_native.c),
# in interleaved rounds (tools/wasm/peak.sh: ROUNDS).
peak-wasm: deps
	tools/wasm/peak.sh $(or $(ROUNDS),3)

# A microcontroller: Cortex-M firmware for qemu's MPS2 boards (tools/mcu/build.sh: Embedded Swift
# for armv7em-none-none-eabi, the bare platform backend, the model in flash, a static arena, no
# malloc); run under qemu-system-arm with semihosting, logits checked against the host's golden, and
# nin-mcu-check.elf's random convolutions, cortexm against the reference kernels on the board.
mcu:
	tools/mcu/build.sh

test-mcu: mcu
	$(PYTHON) tools/mcu/test.py

bench-mcu: mcu
	$(PYTHON) tools/mcu/bench.py

# arm64 (docs/ARCHITECTURE.md, "arm64"): tools/embedded/build.sh for aarch64-unknown-linux-gnu
# (Embedded Swift for aarch64, linked by aarch64-linux-gnu-gcc: .ci/deps installs it, and libpng
# and zlib for arm64), then tested under qemu-aarch64 -cpu cortex-a53 (ARMv8.0), neoverse-n1
# (dot product) and max (i8mm) by tools/arm64/test.sh.
ARM64 := .build-arm64/release
arm64: deps
	TARGET=aarch64-unknown-linux-gnu tools/embedded/build.sh .build-arm64

test-arm64: arm64 cli
	tools/arm64/test.sh $(ARM64) $(RELEASE)/nin-infer

# The classic model's instructions per inference (batch 1, one thread) under qemu-aarch64 -cpu
# cortex-a53, neoverse-n1 and max, counted by the plugin tools/qemu/insn_count.c: nin per kernel
# family (bench/nin_bench.c) and ONNX Runtime's CPU provider (bench/ort_bench.c on make bench's
# QDQ model, libonnxruntime.so from the aarch64 wheel of the host's onnxruntime version, fetched
# once into .build-arm64/ort/ by pip download), with issue 24's goals (tools/arm64/bench.py).
# About 2 minutes; not in CI. Instruction counts, not times.
bench-arm64: arm64 lib cli
	$(WITH_BINDING) $(PYTHON) tools/arm64/bench.py $(ARM64) $(MODEL)

test-python: lib cli
	$(PYTHON) -m pytest -q tools/tests bindings/python/tests Tests/cli

# Memory and thread safety: the whole Swift suite under AddressSanitizer; the threaded tests
# and the worker pool's own under ThreadSanitizer, side by side (separate build folders, so the
# normal builds stay as they are). Their old "thread leak" under load was real: a worker kept
# its context retained past its last part, so the context's deinit could run on that worker,
# join it from itself and leave it unjoined; workers now borrow it (WorkerPool.swift).
sanitize: .build/kernels.stamp
	ASAN_OPTIONS=detect_leaks=0 swift test --scratch-path .build-asan --sanitize=address 2>&1 | tee .build/asan.log | grep -E '^(✔ Test run|✘)|ERROR: AddressSanitizer'; \
	grep -q '✔ Test run with' .build/asan.log
	swift test --scratch-path .build-tsan --sanitize=thread --filter 'goldenNetworkThreads|randomConvolutions|workerPool' 2>&1 | tee .build/tsan.log | grep -E '^(✔ Test run|✘)|WARNING: ThreadSanitizer'; \
	grep -q '✔ Test run with' .build/tsan.log && ! grep -q 'WARNING: ThreadSanitizer' .build/tsan.log
	$(MAKE) asan-lib lib
	$(MAKE) -C bindings/c test-sanitize memcheck
	$(MAKE) fuzz-smoke

# libnin.so instrumented with AddressSanitizer, for the sanitized C tests (bindings/c test-sanitize).
asan-lib:
	swift build -c release -Xswiftc -static-stdlib --sanitize=address --product nin --scratch-path .build-asan-lib
	ln -sf libnin.so .build-asan-lib/release/libnin.so.$(SOVERSION)

# Fuzzing: fuzz/run.sh builds the libFuzzer targets in .build-fuzz and runs each SECONDS seconds.
SECONDS ?= 60
fuzz:
	fuzz/run.sh $(SECONDS)

fuzz-smoke:
	fuzz/run.sh 5

RSS_RUNS ?= 20000
stress: lib
	$(MAKE) -C bindings/c test-stress RSS_RUNS=$(RSS_RUNS)

memcheck: lib
	$(MAKE) -C bindings/c memcheck

# Installs the library (libnin.so.VERSION, stripped, SONAME libnin.so.$(SOVERSION), with its
# symlinks), nin.h and nin.pc (bindings/c/Makefile), then bin/nin-infer and the shipped models
# under share/nin/models, where the installed nin-infer finds its default model.
install: lib cli
	$(MAKE) -C bindings/c install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/nin/models
	install -m 755 $(RELEASE)/nin-infer $(DESTDIR)$(PREFIX)/bin/nin-infer
	strip $(DESTDIR)$(PREFIX)/bin/nin-infer
	install -m 644 models/*.nin models/MODEL_CARD.md $(DESTDIR)$(PREFIX)/share/nin/models/

uninstall:
	$(MAKE) -C bindings/c uninstall PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	rm -f $(DESTDIR)$(PREFIX)/bin/nin-infer
	rm -rf $(DESTDIR)$(PREFIX)/share/nin

# The README's class heatmaps of the example images (docs/heatmaps/).
heatmaps: cli
	rm -rf docs/heatmaps && mkdir -p docs/heatmaps
	$(RELEASE)/nin-infer --no-progress --top 1 --heatmap docs/heatmaps $(IMAGES) > /dev/null

models:
	tools/make_models.sh
	tools/make_models.sh classic

golden:
	$(PYTHON) tools/make_golden.py
	$(PYTHON) tools/make_output_size_golden.py
	$(PYTHON) tools/make_png_fixtures.py
	$(PYTHON) tools/make_pngsuite_expected.py

# fp32 PyTorch logits of the first 1,000 test images for every shipped model (needs torch).
fp32-golden:
	for pt in models/*.pt; do $(PYTHON) tools/make_fp32_logits.py $$pt; done

# Mutation testing: each mutant of tools/mutants.py applied in turn, rebuilt, its tests run, the
# kill table printed (tens of minutes; not part of CI). `tools/mutants.py --check` is instant.
mutants: lib
	nice -n 10 $(PYTHON) tools/mutants.py

eval: lib
	$(WITH_BINDING) $(PYTHON) tools/nin_eval.py --model $(MODEL)

# nin vs ONNX Runtime int8/fp32 (and PyTorch fp32 if installed) on the same weights: latency,
# top-1 agreement, cold start, callgrind instruction count (bench/README.md). Needs
# `pip install onnxruntime onnx`; writes bench/out/results.json (+ latency.png with matplotlib).
bench: lib cli
	$(WITH_BINDING) $(PYTHON) tools/bench.py

# nin-infer on 10,000 PNGs in a folder against the engine's batch-16 2-thread throughput.
bench-bulk: lib cli
	$(WITH_BINDING) $(PYTHON) tools/bench_bulk.py

.PHONY: bench bench-bulk

clean:
	rm -rf .build .build-* bindings/c/build bindings/c/build-sanitize bindings/python/build bindings/python/dist

.PHONY: embedded test-embedded bench-embedded arm64 test-arm64 bench-arm64 wasm test-wasm wasm-screenshot bench-wasm peak-wasm serve mcu test-mcu bench-mcu bench-workers kernel-check bench-kit mutants test-portable test-cpus heatmaps install uninstall fp32-golden sanitize asan-lib fuzz fuzz-smoke stress memcheck deps all lib cli demo test test-swift test-c test-python models golden eval clean
