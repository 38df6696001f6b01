# syntax=docker/dockerfile:1
# A Go service: compiled on the builder, shipped on a small base.
ARG GO_VERSION=1.23
ARG BASE=demo/api:2.1

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY . .
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app ./cmd/app

# Tests run only with --target test; a normal build skips this stage.
FROM build AS test
RUN go test ./...

FROM alpine:3.20 AS unused
RUN echo never built

FROM ${BASE}
COPY --from=build /out/app /usr/local/bin/app
ENTRYPOINT ["/usr/local/bin/app"]
