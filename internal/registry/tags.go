package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
)

// Tag listing defaults.
const (
	// DefaultTagPageSize is the n of a tags/list request; ECR refuses more.
	DefaultTagPageSize = 1000
	// DefaultTagMaxPages bounds the pages read for one repository.
	DefaultTagMaxPages = 100
	// DefaultHubAPI is Docker Hub's Hub API, which lists tags with their
	// architectures.
	DefaultHubAPI = "https://hub.docker.com"
	// maxTagPageBytes caps one page of a tag list.
	maxTagPageBytes = 8 << 20
	// hubPageSize is the Hub API's largest page.
	hubPageSize = 100
)

// Tag-list sources, as TagList.Source says.
const (
	SourceHubAPI   = "hub-api"
	SourceRegistry = "registry"
)

// TagList is a repository's tags and where they came from.
type TagList struct {
	// Repository is the repository's full name.
	Repository string
	// Tags are in the order the source listed them.
	Tags []Tag
	// Source is SourceHubAPI or SourceRegistry.
	Source string
	// Requests is how many HTTP requests the listing took (0 when cached).
	Requests int
	// Notes say what the listing met: a fallback, a page cap.
	Notes []string
}

// Tag is one tag of a repository.
type Tag struct {
	// Name is the tag.
	Name string
	// Digest is the tag's manifest digest, when the source said it (the
	// Hub API does).
	Digest string
	// Platforms are the tag's platforms, attestations excluded, when the
	// source said them (the Hub API does); nil when not known.
	Platforms []platform.Platform
}

// tagOptions configure tag listing.
type tagOptions struct {
	pageSize, maxPages int
	hubAPI             string   // the Hub API's base URL
	hubRegistries      []string // registries the Hub API serves
}

// WithTagPaging sets the n of each tags/list request (at most
// DefaultTagPageSize) and the most pages read for one repository.
func WithTagPaging(pageSize, maxPages int) Option {
	return func(o *options) error {
		if pageSize < 1 || pageSize > DefaultTagPageSize || maxPages < 1 {
			return fmt.Errorf("tag paging %d per page, %d pages: want 1..%d per page and at least 1 page", pageSize, maxPages, DefaultTagPageSize)
		}
		o.tags.pageSize, o.tags.maxPages = pageSize, maxPages
		return nil
	}
}

// WithHubAPI sets the base URL of the Hub API (default DefaultHubAPI) and
// the registries whose tags it lists (default Docker Hub's); tests serve
// one on loopback. An empty base URL turns the Hub API off.
func WithHubAPI(baseURL string, registries ...string) Option {
	return func(o *options) error {
		if baseURL != "" {
			u, err := url.Parse(baseURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("hub API %q: want an http(s) URL", baseURL)
			}
		}
		o.tags.hubAPI = strings.TrimSuffix(baseURL, "/")
		if len(registries) > 0 {
			o.tags.hubRegistries = registries
		}
		return nil
	}
}

// tagLists caches tag lists for the tag TTL, and the Hub API's rate limit.
type tagLists struct {
	mu       sync.Mutex
	lists    map[string]tagListEntry
	hubUntil time.Time // the Hub API is not asked before this (rate limited)
}

type tagListEntry struct {
	list TagList
	at   time.Time
}

// ListTags lists repo's tags with the cheapest reliable source: the Hub
// API for Docker Hub (tags with their architectures, no pulls), falling
// back to the registry's tags/list, which is followed through its Link
// headers (same origin only) up to the page cap; a page of exactly n tags
// without a Link goes on from its last tag, a longer one is the whole list
// (the registry ignores n). A list is cached for the tag TTL. A failure is a *lookup.Error with its Cause.
func (c *Client) ListTags(ctx context.Context, repo name.Repository) (TagList, error) {
	key := repo.Name()
	c.tagLists.mu.Lock()
	if e, ok := c.tagLists.lists[key]; ok && time.Since(e.at) < c.o.tagTTL {
		c.tagLists.mu.Unlock()
		l := e.list
		l.Requests = 0
		return l, nil
	}
	c.tagLists.mu.Unlock()
	// Concurrent listings of one repository share one.
	ran := false // whether this caller made the requests
	v, err, _ := c.flight.Do("tags\x00"+key, func() (any, error) { ran = true; return c.listTags(ctx, repo) })
	l, _ := v.(TagList)
	if !ran {
		l.Requests = 0
	}
	return l, err
}

// listTags is ListTags without the cache.
func (c *Client) listTags(ctx context.Context, repo name.Repository) (TagList, error) {
	key := repo.Name()
	var notes []string
	if c.servesHub(repo) {
		l, err := c.hubTags(ctx, repo)
		if err == nil {
			c.keepTags(key, l)
			return l, nil
		}
		if ctx.Err() != nil {
			return TagList{}, classify(err)
		}
		c.o.logger.Debug("hub API tag listing failed", "repo", key, "err", err)
		notes = append(notes, fmt.Sprintf("the Hub API failed (%v); listed the registry's tags instead", err))
	}
	l, err := c.registryTags(ctx, repo)
	if err != nil {
		e := classify(err)
		e.Ref = key
		return TagList{}, e
	}
	l.Notes = append(notes, l.Notes...)
	c.keepTags(key, l)
	return l, nil
}

func (c *Client) keepTags(key string, l TagList) {
	c.tagLists.mu.Lock()
	defer c.tagLists.mu.Unlock()
	if c.tagLists.lists == nil {
		c.tagLists.lists = map[string]tagListEntry{}
	}
	c.tagLists.lists[key] = tagListEntry{list: l, at: time.Now()}
}

// servesHub reports whether the Hub API lists repo's tags and is not
// resting after a rate limit.
func (c *Client) servesHub(repo name.Repository) bool {
	t := c.o.tags
	if t.hubAPI == "" || !slices.Contains(t.hubRegistries, repo.RegistryStr()) {
		return false
	}
	c.tagLists.mu.Lock()
	defer c.tagLists.mu.Unlock()
	return time.Now().After(c.tagLists.hubUntil)
}

// hubPage is one page of the Hub API's tag listing.
type hubPage struct {
	Next    string `json:"next"`
	Results []struct {
		Name   string `json:"name"`
		Digest string `json:"digest"`
		Images []struct {
			Architecture string `json:"architecture"`
			OS           string `json:"os"`
			Variant      string `json:"variant"`
		} `json:"images"`
	} `json:"results"`
}

// hubTags lists repo's tags through the Hub API, 100 a page, following
// next links on the API's own origin. X-RateLimit-Remaining at 0 rests the
// API until X-RateLimit-Reset (a 429 until X-Retry-After) and fails this
// listing, so the caller falls back to the registry.
func (c *Client) hubTags(ctx context.Context, repo name.Repository) (TagList, error) {
	ns, rp, ok := strings.Cut(repo.RepositoryStr(), "/")
	if !ok || strings.Contains(rp, "/") {
		return TagList{}, fmt.Errorf("%s is not a namespace/repository name", repo.RepositoryStr())
	}
	base, _ := url.Parse(c.o.tags.hubAPI)
	next := fmt.Sprintf("%s/v2/namespaces/%s/repositories/%s/tags?page_size=%d",
		c.o.tags.hubAPI, url.PathEscape(ns), url.PathEscape(rp), hubPageSize)
	l := TagList{Repository: repo.Name(), Source: SourceHubAPI}
	hc := &http.Client{Transport: c.base}
	for next != "" {
		if l.Requests >= c.o.tags.maxPages {
			return TagList{}, fmt.Errorf("over %d pages", c.o.tags.maxPages)
		}
		u, err := sameOrigin(base, next)
		if err != nil {
			return TagList{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return TagList{}, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return TagList{}, err
		}
		l.Requests++
		b, err := readCapped(resp)
		c.restHub(resp)
		if err != nil {
			return TagList{}, err
		}
		var p hubPage
		if err := json.Unmarshal(b, &p); err != nil {
			return TagList{}, fmt.Errorf("hub API page: %w", err)
		}
		for _, r := range p.Results {
			t := Tag{Name: r.Name, Digest: r.Digest}
			for _, im := range r.Images {
				if im.Architecture == "" || im.Architecture == "unknown" || im.OS == "unknown" {
					continue // attestations
				}
				t.Platforms = append(t.Platforms, platform.Normalize(platform.Platform{OS: im.OS, Architecture: im.Architecture, Variant: im.Variant}))
			}
			l.Tags = append(l.Tags, t)
		}
		next = p.Next
	}
	return l, nil
}

// restHub reads the Hub API's own rate-limit headers: at none remaining,
// or after a 429, it is not asked again before the reset.
func (c *Client) restHub(resp *http.Response) {
	until := time.Time{}
	if resp.StatusCode == http.StatusTooManyRequests {
		until = time.Now().Add(time.Minute)
		if t, ok := unixHeader(resp.Header, "X-Retry-After"); ok {
			until = t
		}
	} else if rem := resp.Header.Get("X-RateLimit-Remaining"); rem == "0" {
		until = time.Now().Add(time.Minute)
		if t, ok := unixHeader(resp.Header, "X-RateLimit-Reset"); ok {
			until = t
		}
	}
	if until.IsZero() {
		return
	}
	c.tagLists.mu.Lock()
	c.tagLists.hubUntil = until
	c.tagLists.mu.Unlock()
	c.notes.add("hub api rate limit", "Docker Hub's Hub API rate limit was reached; tags are listed from the registry until "+until.UTC().Format(time.RFC3339))
}

func unixHeader(h http.Header, key string) (time.Time, bool) {
	n, err := strconv.ParseInt(h.Get(key), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// readCapped reads a listing response's body through the page cap,
// failing on a status other than 200.
func readCapped(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, err
	}
	if resp.ContentLength > maxTagPageBytes {
		return nil, &lookup.Error{Cause: lookup.CauseTooLarge, Err: fmt.Errorf("tag list page is %d bytes, over the %d-byte cap", resp.ContentLength, maxTagPageBytes)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxTagPageBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxTagPageBytes {
		return nil, &lookup.Error{Cause: lookup.CauseTooLarge, Err: fmt.Errorf("tag list page is over the %d-byte cap", maxTagPageBytes)}
	}
	return b, nil
}

// sameOrigin resolves ref against base and refuses another scheme or host.
func sameOrigin(base *url.URL, ref string) (*url.URL, error) {
	u, err := base.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("next page %q: %w", ref, err)
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return nil, fmt.Errorf("next page %q leaves %s://%s: refused", ref, base.Scheme, base.Host)
	}
	return u, nil
}

// registryTags lists repo's tags with tags/list through the repository's
// authenticated scope. It follows Link rel="next" on the same origin; a
// full page without a Link goes on from its last tag (?last=), since some
// registries cut pages without saying so. Past the page cap the list is
// kept, with a note that it is truncated.
func (c *Client) registryTags(ctx context.Context, repo name.Repository) (TagList, error) {
	s, err := c.scope(ctx, repo)
	if err != nil {
		return TagList{}, err
	}
	n := c.o.tags.pageSize
	base := &url.URL{Scheme: s.scheme, Host: repo.RegistryStr(), Path: fmt.Sprintf("/v2/%s/tags/list", repo.RepositoryStr())}
	next := base.String() + "?n=" + strconv.Itoa(n)
	l := TagList{Repository: repo.Name(), Source: SourceRegistry}
	seen := map[string]bool{}
	for next != "" {
		if l.Requests >= c.o.tags.maxPages {
			l.Notes = append(l.Notes, fmt.Sprintf("%s: tag list truncated at %d pages (%d tags)", repo.Name(), l.Requests, len(l.Tags)))
			break
		}
		u, err := sameOrigin(base, next)
		if err != nil {
			return TagList{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return TagList{}, err
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return TagList{}, err
		}
		l.Requests++
		link := nextLink(resp.Header)
		b, err := readCapped(resp)
		if err != nil {
			return TagList{}, err
		}
		var page struct {
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return TagList{}, &lookup.Error{Cause: lookup.CauseBadManifest, Err: fmt.Errorf("tag list page: %w", err)}
		}
		added := 0
		for _, t := range page.Tags {
			if !seen[t] {
				seen[t] = true
				l.Tags = append(l.Tags, Tag{Name: t})
				added++
			}
		}
		switch {
		case link != "" && added > 0:
			next = link // a Link to pages already read is a loop: stop
		case len(page.Tags) == n && added > 0:
			q := url.Values{"n": {strconv.Itoa(n)}, "last": {page.Tags[len(page.Tags)-1]}}
			next = base.String() + "?" + q.Encode()
		default:
			next = ""
		}
	}
	return l, nil
}

// nextLink returns the target of a Link header's rel="next", or "".
func nextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				continue
			}
			target = strings.TrimSpace(target)
			if strings.HasPrefix(target, "<") && strings.HasSuffix(target, ">") {
				return target[1 : len(target)-1]
			}
		}
	}
	return ""
}

// Digest resolves ref (a tag) to its manifest digest with one HEAD, which
// Docker Hub does not count as a pull. A failure is a *lookup.Error.
func (c *Client) Digest(ctx context.Context, ref string) (string, error) {
	r, err := c.parse(ref)
	if err != nil {
		return "", &lookup.Error{Ref: ref, Cause: lookup.CauseBadReference, Err: err}
	}
	if d, ok := r.(name.Digest); ok {
		return d.DigestStr(), nil
	}
	s, err := c.scope(ctx, r.Context())
	if err != nil {
		e := classify(err)
		e.Ref = ref
		return "", e
	}
	d, err := c.head(ctx, s, r.Identifier())
	if err != nil {
		e := classify(err)
		e.Ref = ref
		return "", e
	}
	return d, nil
}
