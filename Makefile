# archway — build and test.
#
#   make test    install what the tests need (Debian packages, Go tools, the
#                Kubernetes control-plane binaries), then run every test.
#   make build   build ./bin/archway
#   make bench   run the benchmarks under bench/

GO ?= go

.PHONY: build test test-deps unit vet bench

build:
	$(GO) build -o bin/archway ./cmd/archway

test-deps:
	bash hack/test-deps.sh

test: test-deps vet
	bash hack/go-test.sh

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

# unit runs the tests without installing anything (fast inner loop).
unit:
	$(GO) test ./...

bench:
	bash bench/run.sh
