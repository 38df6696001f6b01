package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/archwaydev/archway/internal/lookup"
)

// hostTransport sits under the retries: it holds one of jobsPerRegistry
// slots of the request's host until the response body is closed, and
// counts every request sent by host.
type hostTransport struct {
	inner http.RoundTripper
	jobs  int
	stats *hostStats

	mu   sync.Mutex
	sems map[string]chan struct{}
}

func (t *hostTransport) sem(host string) chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sems == nil {
		t.sems = map[string]chan struct{}{}
	}
	s, ok := t.sems[host]
	if !ok {
		s = make(chan struct{}, t.jobs)
		t.sems[host] = s
	}
	return s
}

func (t *hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sem := t.sem(req.URL.Host)
	select {
	case sem <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	var once sync.Once
	release := func() { once.Do(func() { <-sem }) }
	t.stats.count(req)
	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releaseBody gives the host slot back when the body is closed.
type releaseBody struct {
	io.ReadCloser
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// hostStats counts requests by host and kind.
type hostStats struct {
	mu sync.Mutex
	m  map[string]*lookup.RegistryStats
}

func (s *hostStats) entry(host string) *lookup.RegistryStats {
	if s.m == nil {
		s.m = map[string]*lookup.RegistryStats{}
	}
	e, ok := s.m[host]
	if !ok {
		e = &lookup.RegistryStats{Registry: host, Breaker: lookup.BreakerClosed}
		s.m[host] = e
	}
	return e
}

func (s *hostStats) count(req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entry(req.URL.Host)
	e.Requests++
	if strings.Contains(req.URL.Path, "/manifests/") {
		switch req.Method {
		case http.MethodGet:
			e.Pulls++
		case http.MethodHead:
			e.Heads++
		}
	}
}

func (s *hostStats) refused(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entry(host).RateLimited++
}

// breakers is a circuit breaker per host: after `failures` consecutive
// timeouts, 5xx answers or network failures (each after its retries), the
// host's requests are refused with lookup.CauseUnavailable for cooldown; then one
// request may try again, and its success closes the breaker.
type breakers struct {
	failures int // 0: never trips
	cooldown time.Duration
	now      func() time.Time

	mu sync.Mutex
	m  map[string]*breaker
}

type breaker struct {
	fails     int
	openUntil time.Time
	open      bool
	probing   bool
	trips     int
}

func (b *breakers) get(host string) *breaker {
	if b.m == nil {
		b.m = map[string]*breaker{}
	}
	br, ok := b.m[host]
	if !ok {
		br = &breaker{}
		b.m[host] = br
	}
	return br
}

// allow returns nil when a request to host may be sent; probe says the
// request is the one that tries an open breaker again.
func (b *breakers) allow(host string) (probe bool, err error) {
	if b.failures <= 0 {
		return false, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.get(host)
	if !br.open {
		return false, nil
	}
	if !br.probing && !b.now().Before(br.openUntil) {
		br.probing = true
		return true, nil
	}
	return false, openError(host, br)
}

func openError(host string, br *breaker) error {
	return &lookup.Error{Cause: lookup.CauseUnavailable,
		Err: fmt.Errorf("%s failed %d times in a row; not asked again until %s", host, br.fails, br.openUntil.Format(time.TimeOnly))}
}

// refuse returns the lookup.CauseUnavailable failure when host's breaker is open
// and not yet due for another try, without changing it.
func (b *breakers) refuse(host string) error {
	if b.failures <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	br, ok := b.m[host]
	if !ok || !br.open || (!br.probing && !b.now().Before(br.openUntil)) {
		return nil
	}
	return openError(host, br)
}

// record counts the outcome of a request to host.
func (b *breakers) record(host string, failed, probe bool) {
	if b.failures <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.get(host)
	if probe {
		br.probing = false
	}
	if !failed {
		br.fails, br.open = 0, false
		return
	}
	br.fails++
	if br.fails >= b.failures && (!br.open || probe) {
		if !br.open {
			br.trips++
		}
		br.open, br.openUntil = true, b.now().Add(b.cooldown)
	}
}

func (b *breakers) state(host string) (lookup.BreakerState, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	br, ok := b.m[host]
	if !ok {
		return lookup.BreakerClosed, 0
	}
	if br.open {
		return lookup.BreakerOpen, br.trips
	}
	return lookup.BreakerClosed, br.trips
}

// breakerTransport sits over the retries: it refuses requests to a host
// whose breaker is open, and records the final outcome of the others.
type breakerTransport struct {
	inner http.RoundTripper
	b     *breakers
}

func (t *breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	probe, err := t.b.allow(host)
	if err != nil {
		return nil, err
	}
	resp, err := t.inner.RoundTrip(req)
	if req.Context().Err() != nil && err != nil {
		if probe {
			t.b.record(host, false, true) // the caller gave up: no verdict
		}
		return nil, err
	}
	t.b.record(host, breaks(resp, err), probe)
	return resp, err
}

// breaks reports whether an outcome counts against a host: a timeout or
// network failure, or a 5xx answer.
func breaks(resp *http.Response, err error) bool {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return false
		}
		c := errCause(err)
		return c == lookup.CauseTimeout || c == lookup.CauseNetwork
	}
	return resp.StatusCode >= 500
}

// Stats returns what the Client spent per registry host, sorted by host.
func (c *Client) Stats() []lookup.RegistryStats {
	c.stats.mu.Lock()
	out := make([]lookup.RegistryStats, 0, len(c.stats.m))
	for _, e := range c.stats.m {
		out = append(out, *e)
	}
	c.stats.mu.Unlock()
	for i := range out {
		c.fillState(&out[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Registry < out[j].Registry })
	return out
}

// RegistryState returns the Client's view of one registry host
// (host[:port], "docker.io" for Docker Hub): its breaker, quota and what
// was spent there. A webhook asks it before a lookup to answer fast.
func (c *Client) RegistryState(host string) lookup.RegistryStats {
	host = canonicalRegistry(host)
	st := lookup.RegistryStats{Registry: host, Breaker: lookup.BreakerClosed}
	c.stats.mu.Lock()
	if e, ok := c.stats.m[host]; ok {
		st = *e
	}
	c.stats.mu.Unlock()
	c.fillState(&st)
	return st
}

func (c *Client) fillState(st *lookup.RegistryStats) {
	st.Breaker, st.BreakerTrips = c.breakers.state(st.Registry)
	if q, ok := c.quotas.snapshot(st.Registry); ok {
		st.Quota = q
	}
}
