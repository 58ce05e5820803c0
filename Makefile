# refvision — the two commands of the README, plus the benchmark.
#   make run    installs what is missing, builds (release), runs the fleet (embedded) on the sample videos
#   make test   installs what is missing, starts moto_server on 127.0.0.1, runs every test, stops it
#   make bench  speed/memory against the official MediaPipe Python solution, measured in the same run
SHELL := /bin/bash
SAMPLES ?= .deps/media/samples
OUT ?= out
DATA ?= var
SWIFT_BUILD_FLAGS ?=

.PHONY: run test bench bootstrap build release samples clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	swift build $(SWIFT_BUILD_FLAGS)

release: bootstrap
	swift build -c release $(SWIFT_BUILD_FLAGS)

samples: bootstrap
	@scripts/samples "$(SAMPLES)"

run: release samples
	@scripts/run-samples "$(SAMPLES)" "$(DATA)"

test: bootstrap
	@scripts/test

bench: release
	@scripts/bench

clean:
	rm -rf .build $(OUT) $(DATA)
