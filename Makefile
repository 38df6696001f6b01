# archway — build and test.
#
#   make test    install what the tests need (Debian packages, Go tools, the
#                Kubernetes control-plane binaries), then vet, lint and run
#                every test with the race detector.
#   make build   build ./bin/archway (version stamped from git describe)
#   make lint    golangci-lint (version pinned in hack/test-deps.sh)
#   make golden  regenerate every golden file (UPDATE_GOLDEN=1 go test ./...)
#   make unit    the tests, installing nothing (fast inner loop)
#   make image   build archway's multi-arch image and push it to
#                $(REGISTRY)/archway:$(VERSION) (no Docker engine needed)
#   make bench   run the benchmarks under bench/

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/archwaydev/archway/internal/cli.version=$(VERSION)
GOLANGCI_LINT ?= $(shell $(GO) env GOPATH)/bin/golangci-lint

REGISTRY ?= localhost:5000

.PHONY: build test test-deps unit vet lint golden bench image

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/archway ./cmd/archway

test-deps:
	bash hack/test-deps.sh

test: test-deps vet lint
	bash hack/go-test.sh

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

lint:
	$(GOLANGCI_LINT) run ./...

# golden rewrites every golden file (see internal/golden).
golden:
	UPDATE_GOLDEN=1 $(GO) test -count=1 ./...

unit:
	$(GO) test ./...

bench:
	bash bench/run.sh

image:
	$(GO) run ./hack/image -target $(REGISTRY)/archway:$(VERSION) -version $(VERSION) $(if $(filter localhost:% 127.0.0.1:%,$(REGISTRY)),-insecure-registry $(REGISTRY))
