// Package registrytest runs real registries for tests and pushes small
// test images to them.
//
// StartInProcess serves go-containerregistry's in-process registry;
// StartDistribution runs Debian's docker-registry binary (distribution 2.8)
// on a free loopback port, optionally with TLS (a self-signed certificate
// made in Go) and htpasswd basic auth; StartBearer puts token auth in
// front of any registry handler. Counter is an http.RoundTripper that
// counts requests by kind (ping, token, manifest GET/HEAD, blob GET/HEAD),
// so tests can prove a request budget. StartHub serves a registry metered
// as Docker Hub meters pulls (ratelimit headers, 429 TOOMANYREQUESTS past
// the limit; NewHub is the handler alone, for benchmarks), and
// StartCounted serves any handler on another port, e.g. as a mirror of the
// same content. Image, Index, Push and friends
// build and push images whose config names a given platform.
//
// It is meant for tests only: every helper takes a testing.TB and fails
// the test on error.
package registrytest
