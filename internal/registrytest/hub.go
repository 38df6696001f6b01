package registrytest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Hub is a registry handler metered the way Docker Hub meters pulls: every
// manifest GET is a pull, counted per client (the remote IP address, or
// the user of a Basic Authorization header); HEADs are free. Manifest GET
// and HEAD answers carry ratelimit-limit and ratelimit-remaining
// ("LIMIT;w=SECONDS") and docker-ratelimit-source; a manifest GET past the
// limit is answered 429 with a TOOMANYREQUESTS body and no Retry-After.
// Safe for concurrent use.
type Hub struct {
	next   http.Handler
	limit  int
	window time.Duration

	mu     sync.Mutex
	pulls  map[string]int // by client
	counts map[Kind]int   // every request by kind, refused ones included
}

// NewHub meters next with limit pulls per window per client.
func NewHub(next http.Handler, limit int, window time.Duration) *Hub {
	return &Hub{next: next, limit: limit, window: window, pulls: map[string]int{}, counts: map[Kind]int{}}
}

// ServeHTTP meters manifest requests and hands every request to next.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k := Classify(r.Method, r.URL.Path)
	client := clientOf(r)
	h.mu.Lock()
	h.counts[k]++
	used := h.pulls[client]
	over := k == ManifestGET && used >= h.limit
	if k == ManifestGET && !over {
		used++
		h.pulls[client] = used
	}
	h.mu.Unlock()
	if k == ManifestGET || k == ManifestHEAD {
		win := strconv.Itoa(int(h.window / time.Second))
		w.Header().Set("ratelimit-limit", strconv.Itoa(h.limit)+";w="+win)
		w.Header().Set("ratelimit-remaining", strconv.Itoa(max(h.limit-used, 0))+";w="+win)
		w.Header().Set("docker-ratelimit-source", client)
	}
	if over {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"}]}`)
		return
	}
	h.next.ServeHTTP(w, r)
}

// Pulls returns the pulls counted for every client together.
func (h *Hub) Pulls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, p := range h.pulls {
		n += p
	}
	return n
}

// Count returns how many requests of kind k arrived, refused ones
// included.
func (h *Hub) Count(k Kind) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[k]
}

// Reset forgets every pull and count: each client's quota is whole again.
func (h *Hub) Reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pulls, h.counts = map[string]int{}, map[Kind]int{}
}

func clientOf(r *http.Request) string {
	if u, _, ok := r.BasicAuth(); ok && u != "" {
		return u
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// HubServer is an in-process registry served twice: metered as Docker Hub
// (Host, the origin) and unmetered for pushing (Registry).
type HubServer struct {
	*Hub
	// Registry is the unmetered registry; push test images through it.
	Registry *InProcess
	// Server is the metered origin.
	Server *httptest.Server
	// Host is the metered origin's host:port.
	Host string
}

// StartHub starts a Docker-Hub-like origin with limit pulls per window
// per client, closed on cleanup.
func StartHub(t testing.TB, limit int, window time.Duration) *HubServer {
	t.Helper()
	reg := StartInProcess(t)
	h := NewHub(reg.Handler, limit, window)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &HubServer{Hub: h, Registry: reg, Server: srv, Host: hostOf(t, srv.URL)}
}

// Ref returns the reference host/repo at the metered origin.
func (s *HubServer) Ref(repo string) string { return s.Host + "/" + repo }

// Counted serves a handler on its own loopback port, counting requests
// by kind: a mirror of another server's content, for instance.
type Counted struct {
	// Server is the running test server.
	Server *httptest.Server
	// Host is host:port.
	Host string

	next   http.Handler
	mu     sync.Mutex
	counts map[Kind]int
}

// StartCounted serves next on a new loopback port, closed on cleanup.
func StartCounted(t testing.TB, next http.Handler) *Counted {
	t.Helper()
	c := &Counted{next: next, counts: map[Kind]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.counts[Classify(r.Method, r.URL.Path)]++
		c.mu.Unlock()
		c.next.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Server.Close)
	c.Host = hostOf(t, c.Server.URL)
	return c
}

// Count returns how many requests of kind k arrived.
func (c *Counted) Count(k Kind) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[k]
}
