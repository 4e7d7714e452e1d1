# nin: build, demo, tests, models.
#   make demo    build and classify the shipped example images with the shipped model
#   make test    every test: Swift (swift test), C (bindings/c), Python (tools/, bindings/python)
#   make lib     build libnin.so (release, Swift runtime linked in: no libswift* at run time)
#   make models  retrain-free: convert the committed checkpoint(s) to .nin and export example images
#   make golden  regenerate every golden test vector (numpy reference) and the PNG fixtures
#   make eval    Fashion-MNIST test-set accuracy of the shipped model, through the runtime
SWIFT_RELEASE := swift build -c release -Xswiftc -static-stdlib
PYTHON        ?= python3
RELEASE       := .build/release
MODEL         ?= models/fashion_small.nin
IMAGES        := $(wildcard examples/images/*.png)

all: lib cli

lib:
	$(SWIFT_RELEASE) --product nin

cli:
	$(SWIFT_RELEASE) --product nin-infer

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

models:
	tools/make_models.sh

golden:
	$(PYTHON) tools/make_golden.py
	$(PYTHON) tools/make_png_fixtures.py

eval: lib
	$(PYTHON) tools/nin_eval.py --model $(MODEL)

clean:
	rm -rf .build bindings/c/build

.PHONY: deps all lib cli demo test test-swift test-c test-python models golden eval clean
