package registrytest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Kind classifies a registry request.
type Kind string

// The kinds of request Counter tells apart.
const (
	Ping         Kind = "ping"          // GET /v2/
	Token        Kind = "token"         // anything outside /v2/: the token endpoint
	ManifestGET  Kind = "manifest GET"  // GET /v2/<name>/manifests/<ref>
	ManifestHEAD Kind = "manifest HEAD" // HEAD /v2/<name>/manifests/<ref>
	BlobGET      Kind = "blob GET"      // GET /v2/<name>/blobs/<digest>
	BlobHEAD     Kind = "blob HEAD"     // HEAD /v2/<name>/blobs/<digest>
	Other        Kind = "other"         // any other /v2/ request (uploads, tag lists)
)

// Counter is an http.RoundTripper that counts the requests passing through
// it by Kind, then hands them to Base (http.DefaultTransport when nil).
// Every attempt is counted, failed ones included. Safe for concurrent use.
type Counter struct {
	Base http.RoundTripper

	mu       sync.Mutex
	counts   map[Kind]int
	requests []string
}

// NewCounter returns a Counter over base (http.DefaultTransport when nil).
func NewCounter(base http.RoundTripper) *Counter { return &Counter{Base: base} }

// RoundTrip counts req and sends it on.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	k := Classify(req.Method, req.URL.Path)
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[Kind]int{}
	}
	c.counts[k]++
	c.requests = append(c.requests, fmt.Sprintf("%s %s://%s%s", req.Method, req.URL.Scheme, req.URL.Host, req.URL.Path))
	c.mu.Unlock()
	base := c.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// Count returns how many requests of kind k were sent.
func (c *Counter) Count(k Kind) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[k]
}

// Counts returns a copy of the counts by kind (kinds never seen are absent).
func (c *Counter) Counts() map[Kind]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[Kind]int, len(c.counts))
	for k, n := range c.counts {
		out[k] = n
	}
	return out
}

// Total returns the number of requests of every kind.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.requests)
}

// Requests returns "METHOD scheme://host/path" of every request, in order.
func (c *Counter) Requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests)
}

// Reset forgets every count.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts, c.requests = nil, nil
}

// Classify tells the Kind of a request from its method and URL path.
func Classify(method, path string) Kind {
	if path == "/v2/" || path == "/v2" {
		return Ping
	}
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return Token
	}
	switch {
	case strings.Contains(rest, "/manifests/"):
		switch method {
		case http.MethodGet:
			return ManifestGET
		case http.MethodHead:
			return ManifestHEAD
		}
	case strings.Contains(rest, "/blobs/") && !strings.Contains(rest, "/blobs/uploads"):
		switch method {
		case http.MethodGet:
			return BlobGET
		case http.MethodHead:
			return BlobHEAD
		}
	}
	return Other
}
