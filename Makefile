# nin: build, demo, tests, models.
#   make demo    build and classify the shipped example images with the shipped model
#   make test    every test: Swift (swift test), C (bindings/c), Python (tools/, bindings/python)
#   make lib     build libnin.so (release, Swift runtime linked in: no libswift* at run time)
#   make models  retrain-free: convert the committed checkpoint(s) to .nin and export example images
#   make golden  regenerate every golden test vector (numpy reference) and the PNG fixtures
#   make sanitize  the Swift tests under AddressSanitizer and ThreadSanitizer, the C tests under
#                  ASan + UBSan, valgrind memcheck, and a fuzzing smoke run (CI runs it)
#   make fuzz      both libFuzzer targets for SECONDS (default 60) each (docs/SECURITY.md)
#   make stress    8 threads x 2,000 runs on one model; RSS flat over RSS_RUNS runs (CI runs it)
#   make eval    Fashion-MNIST test-set accuracy of the shipped model, through the runtime
SWIFT_RELEASE := swift build -c release -Xswiftc -static-stdlib
PYTHON        ?= python3
RELEASE       := .build/release
MODEL         ?= models/fashion_classic.nin
IMAGES        := $(wildcard examples/images/*.png)

all: lib cli

lib:
	$(SWIFT_RELEASE) --product nin

# nin-infer is a fully static executable (no dynamic relocations at start: faster and smaller,
# RSS 10.9 -> 7.9 MB), built in its own folder since its flags differ, then copied beside libnin.so.
cli: lib
	swift build -c release -Xswiftc -static-executable -Xlinker -lz --product nin-infer --scratch-path .build-cli
	cp .build-cli/release/nin-infer $(RELEASE)/nin-infer

demo: cli
	$(RELEASE)/nin-infer --top 3 $(IMAGES)

deps:
	.ci/deps

test: deps
	$(MAKE) test-swift test-c test-python

# The Swift suite runs twice: with the best kernels for this CPU, and with NIN_ISA=generic.
test-swift:
	@mkdir -p .build
	@for isa in auto generic; do \
	  echo "swift test (NIN_ISA=$$isa)"; \
	  NIN_ISA=$$isa swift test 2>&1 | tee .build/swift-test-$$isa.log | grep -E '^(✔ Test run|✘|Test Suite .All tests)|error:'; \
	  grep -q '✔ Test run with' .build/swift-test-$$isa.log || exit 1; \
	done

test-c: lib
	$(MAKE) -C bindings/c test MODEL=$(abspath $(MODEL))

test-python: lib cli
	$(PYTHON) -m pytest -q tools/tests bindings/python/tests

# Memory and thread safety: the whole Swift suite under AddressSanitizer, the threaded tests
# under ThreadSanitizer (separate build folders, so the normal builds stay as they are).
sanitize:
	ASAN_OPTIONS=detect_leaks=0 swift test --scratch-path .build-asan --sanitize=address 2>&1 | tee .build/asan.log | grep -E '^(✔ Test run|✘)|ERROR: AddressSanitizer'; \
	grep -q '✔ Test run with' .build/asan.log
	swift test --scratch-path .build-tsan --sanitize=thread --filter 'goldenNetworkThreads|randomConvolutions' 2>&1 | tee .build/tsan.log | grep -E '^(✔ Test run|✘)|WARNING: ThreadSanitizer'; \
	grep -q '✔ Test run with' .build/tsan.log && ! grep -q 'WARNING: ThreadSanitizer' .build/tsan.log
	$(MAKE) asan-lib lib
	$(MAKE) -C bindings/c test-sanitize memcheck
	$(MAKE) fuzz-smoke

# libnin.so instrumented with AddressSanitizer, for the sanitized C tests (bindings/c test-sanitize).
asan-lib:
	swift build -c release -Xswiftc -static-stdlib --sanitize=address --product nin --scratch-path .build-asan-lib

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

models:
	tools/make_models.sh
	tools/make_models.sh classic

golden:
	$(PYTHON) tools/make_golden.py
	$(PYTHON) tools/make_png_fixtures.py

# fp32 PyTorch logits of the first 1,000 test images for every shipped model (needs torch).
fp32-golden:
	for pt in models/*.pt; do $(PYTHON) tools/make_fp32_logits.py $$pt; done

eval: lib
	$(PYTHON) tools/nin_eval.py --model $(MODEL)

# nin vs ONNX Runtime int8/fp32 (and PyTorch fp32 if installed) on the same weights: latency,
# top-1 agreement, cold start, callgrind instruction count (bench/README.md). Needs
# `pip install onnxruntime onnx`; writes bench/out/results.json (+ latency.png with matplotlib).
bench: lib cli
	$(PYTHON) tools/bench.py

.PHONY: bench

clean:
	rm -rf .build .build-fuzz .build-asan-lib bindings/c/build bindings/c/build-sanitize

.PHONY: fp32-golden sanitize asan-lib fuzz fuzz-smoke stress memcheck deps all lib cli demo test test-swift test-c test-python models golden eval clean
