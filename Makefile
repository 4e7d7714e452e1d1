# nin: build, demo, tests, models.
#   make demo    build and classify the shipped example images with the shipped model
#   make test    every test: Swift (swift test), C (bindings/c), Python (tools/, bindings/python)
#   make lib     build libnin.so (release, Swift runtime linked in: no libswift* at run time)
#   make models  retrain-free: convert the committed checkpoint(s) to .nin and export example images
#   make golden  regenerate every golden test vector (numpy reference) and the PNG fixtures
#   make sanitize  the Swift tests under AddressSanitizer and ThreadSanitizer (CI runs it)
#   make mutants mutation testing: every mutant of tools/mutants.py must be killed (slow; not CI)
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

# A debug build's incremental driver does not recompile Sources/NiNAVX512VNNI when only the
# bodies of @inlinable code it inlines from Sources/NiNAVX2 change, so its kernels would keep
# the old code (docs/ARCHITECTURE.md, "Building"): after such an edit, touch its sources.
.build/kernels.stamp: $(wildcard Sources/NiNAVX2/*.swift)
	@mkdir -p .build
	touch Sources/NiNAVX512VNNI/*.swift $@

test-c: lib
	$(MAKE) -C bindings/c test MODEL=$(abspath $(MODEL))

test-python: lib cli
	$(PYTHON) -m pytest -q tools/tests bindings/python/tests

# Memory and thread safety: the whole Swift suite under AddressSanitizer, the threaded tests
# under ThreadSanitizer (separate build folders, so the normal builds stay as they are).
sanitize: .build/kernels.stamp
	ASAN_OPTIONS=detect_leaks=0 swift test --scratch-path .build-asan --sanitize=address 2>&1 | tee .build/asan.log | grep -E '^(✔ Test run|✘)|ERROR: AddressSanitizer'; \
	grep -q '✔ Test run with' .build/asan.log
	swift test --scratch-path .build-tsan --sanitize=thread --filter 'goldenNetworkThreads|randomConvolutions' 2>&1 | tee .build/tsan.log | grep -E '^(✔ Test run|✘)|WARNING: ThreadSanitizer'; \
	grep -q '✔ Test run with' .build/tsan.log && ! grep -q 'WARNING: ThreadSanitizer' .build/tsan.log

models:
	tools/make_models.sh
	tools/make_models.sh classic

golden:
	$(PYTHON) tools/make_golden.py
	$(PYTHON) tools/make_png_fixtures.py

# fp32 PyTorch logits of the first 1,000 test images for every shipped model (needs torch).
fp32-golden:
	for pt in models/*.pt; do $(PYTHON) tools/make_fp32_logits.py $$pt; done

# Mutation testing: each mutant of tools/mutants.py applied in turn, rebuilt, its tests run, the
# kill table printed (tens of minutes; not part of CI). `tools/mutants.py --check` is instant.
mutants:
	nice -n 10 $(PYTHON) tools/mutants.py

eval: lib
	$(PYTHON) tools/nin_eval.py --model $(MODEL)

# nin vs ONNX Runtime int8/fp32 (and PyTorch fp32 if installed) on the same weights: latency,
# top-1 agreement, cold start, callgrind instruction count (bench/README.md). Needs
# `pip install onnxruntime onnx`; writes bench/out/results.json (+ latency.png with matplotlib).
bench: lib cli
	$(PYTHON) tools/bench.py

.PHONY: bench

clean:
	rm -rf .build bindings/c/build

.PHONY: mutants fp32-golden sanitize deps all lib cli demo test test-swift test-c test-python models golden eval clean
