package registrytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/archwaydev/archway/internal/platform"
)

// HubTag is one tag the Hub API lists: its digest and the platforms of
// its images (attestations are added as Docker Hub shows them: an
// "unknown" architecture).
type HubTag struct {
	Name      string
	Digest    string
	Platforms []platform.Platform
}

// HubAPI serves Docker Hub's Hub API tag listing on loopback:
// GET /v2/namespaces/NS/repositories/REPO/tags?page_size=N&page=P,
// at most 100 a page, newest first as the Hub orders by default, each
// tag with images[] (architecture, os, variant, digest) and an absolute
// next URL; X-RateLimit-Limit, -Remaining and -Reset on every answer.
// Safe for concurrent use.
type HubAPI struct {
	// Server is the running test server; its URL is the API's base URL.
	Server *httptest.Server

	mu       sync.Mutex
	repos    map[string][]HubTag // "ns/repo" → tags, oldest first
	requests int
	limit    int // requests allowed before 429s; 0 for no limit
}

// StartHubAPI serves repos ("ns/repo" → tags, oldest first) until
// cleanup. limit > 0 answers 429 with X-Retry-After once limit requests
// were served.
func StartHubAPI(t testing.TB, repos map[string][]HubTag, limit int) *HubAPI {
	t.Helper()
	h := &HubAPI{repos: repos, limit: limit}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Server.Close)
	return h
}

// Requests returns how many requests arrived.
func (h *HubAPI) Requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

func (h *HubAPI) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.requests++
	n := h.requests
	h.mu.Unlock()
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/namespaces/")
	ns, rest, _ := strings.Cut(rest, "/repositories/")
	repo, ok2 := strings.CutSuffix(rest, "/tags")
	tags, found := h.repos[ns+"/"+repo]
	if !ok || !ok2 || !found {
		http.Error(w, `{"message":"object not found"}`, http.StatusNotFound)
		return
	}
	remaining := 180 - n
	if h.limit > 0 {
		remaining = max(h.limit-n, 0)
	}
	w.Header().Set("X-RateLimit-Limit", "180")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Reset", "4102444800")
	if h.limit > 0 && n > h.limit {
		w.Header().Set("X-Retry-After", "4102444800")
		http.Error(w, `{"message":"too many requests"}`, http.StatusTooManyRequests)
		return
	}
	size, _ := strconv.Atoi(r.URL.Query().Get("page_size"))
	if size <= 0 || size > 100 {
		size = 10
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	type image struct {
		Architecture string  `json:"architecture"`
		OS           string  `json:"os"`
		Variant      *string `json:"variant"`
		Digest       string  `json:"digest"`
	}
	type result struct {
		Name   string  `json:"name"`
		Digest string  `json:"digest"`
		Images []image `json:"images"`
	}
	out := struct {
		Count   int      `json:"count"`
		Next    *string  `json:"next"`
		Results []result `json:"results"`
	}{Count: len(tags), Results: []result{}}
	for i := (page - 1) * size; i < len(tags) && i < page*size; i++ {
		t := tags[len(tags)-1-i] // newest first
		res := result{Name: t.Name, Digest: t.Digest}
		for _, p := range t.Platforms {
			im := image{Architecture: p.Architecture, OS: p.OS, Digest: t.Digest}
			if p.Variant != "" {
				v := p.Variant
				im.Variant = &v
			}
			res.Images = append(res.Images, im, image{Architecture: "unknown", OS: "unknown", Digest: t.Digest})
		}
		out.Results = append(out.Results, res)
	}
	if page*size < len(tags) {
		next := fmt.Sprintf("%s%s?page_size=%d&page=%d", h.Server.URL, r.URL.Path, size, page+1)
		out.Next = &next
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out) // a client that went away needs no answer
}
