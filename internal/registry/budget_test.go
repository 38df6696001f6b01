package registry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
)

// connCounter counts the connections a transport opens (not reused ones).
type connCounter struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (c *connCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if !info.Reused {
			c.n.Add(1)
		}
	}}
	return c.base.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
}

// budgetRegistry is an in-process registry behind token auth with three
// index images in one repository and two single-platform images in
// another.
type budgetRegistry struct {
	bearer  *registrytest.Bearer
	digests map[string]string // tag ref → digest
}

func startBudgetRegistry(t *testing.T) budgetRegistry {
	t.Helper()
	r := registrytest.StartInProcess(t)
	b := registrytest.StartBearer(t, r.Handler, nil)
	br := budgetRegistry{bearer: b, digests: map[string]string{}}
	push := func(repo, d string) { br.digests[b.Ref(repo)] = d }
	push("budget/multi:v1", registrytest.PushIndex(t, r.Ref("budget/multi:v1"), registrytest.Index(t, amd64, arm64)))
	push("budget/multi:v2", registrytest.PushIndex(t, r.Ref("budget/multi:v2"), registrytest.ManifestList(t, amd64, arm64, armv7)))
	push("budget/multi:v3", registrytest.PushIndex(t, r.Ref("budget/multi:v3"),
		registrytest.WithAttestations(t, registrytest.Index(t, arm64, windows))))
	push("budget/single:v1", registrytest.Push(t, r.Ref("budget/single:v1"), registrytest.Image(t, arm64)))
	push("budget/single:latest", registrytest.Push(t, r.Ref("budget/single:latest"), registrytest.OCIImage(t, amd64)))
	return br
}

func (br budgetRegistry) tagRefs() []string {
	return []string{
		br.bearer.Ref("budget/multi:v1"), br.bearer.Ref("budget/multi:v2"), br.bearer.Ref("budget/multi:v3"),
		br.bearer.Ref("budget/single:v1"), br.bearer.Ref("budget/single:latest"),
	}
}

func (br budgetRegistry) digestRefs() []string {
	var out []string
	for _, ref := range br.tagRefs() {
		repo := ref[:strings.LastIndex(ref, ":")] // host:port/repo:tag → host:port/repo
		out = append(out, repo+"@"+br.digests[ref])
	}
	return out
}

func TestRequestBudget(t *testing.T) {
	br := startBudgetRegistry(t)
	cacheDir := t.TempDir()
	counter := registrytest.NewCounter(nil)
	conns := &connCounter{base: counter}
	c, err := registry.New(registry.WithCacheDir(cacheDir), registry.WithTransport(conns), registry.WithJobs(1))
	if err != nil {
		t.Fatal(err)
	}
	refs := br.tagRefs()
	// Duplicates, and another spelling of single:latest, are looked up once.
	refs = append(refs, refs[0], refs[3], br.bearer.Ref("budget/single"))
	var progress []int
	var last lookup.Progress
	results := c.LookupAll(context.Background(), refs, func(p lookup.Progress) {
		if p.Total != 0 && p.Total != 6 {
			t.Errorf("progress total = %d, want 6 distinct refs", p.Total)
		}
		if p.Done != last.Done {
			progress = append(progress, p.Done)
		}
		last = p
	})
	if last != (lookup.Progress{Done: 6, Found: 6, Total: 6}) {
		t.Errorf("last progress = %+v, want 6 of 6 done", last)
	}
	for i, res := range results {
		if res.Ref != refs[i] {
			t.Errorf("results[%d].Ref = %q, want %q", i, res.Ref, refs[i])
		}
		if res.Err != nil {
			t.Fatalf("%s: %v", res.Ref, res.Err)
		}
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5, 6}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	t.Logf("cold lookup of 3 index + 2 single-platform images (+3 duplicates): %v, %d new connections; requests:\n%s",
		counter.Counts(), conns.n.Load(), strings.Join(counter.Requests(), "\n"))
	wantCounts := map[registrytest.Kind]int{
		registrytest.ManifestGET: 3 + 2, // one per index image, one per single-platform image
		registrytest.BlobGET:     2,     // the config of each single-platform image
		registrytest.Token:       2,     // one per repository scope
	}
	got := counter.Counts()
	pings := got[registrytest.Ping]
	delete(got, registrytest.Ping)
	if diff := cmp.Diff(wantCounts, got); diff != "" {
		t.Errorf("requests by kind (-want +got):\n%s", diff)
	}
	// One ping per registry: go-containerregistry tries https first on a
	// loopback registry, then plain http.
	if pings < 1 || pings > 2 {
		t.Errorf("pings = %d, want 1 (or 2 with the https attempt)", pings)
	}
	if diff := cmp.Diff(map[string]int{"repository:budget/multi:pull": 1, "repository:budget/single:pull": 1},
		br.bearer.Tokens()); diff != "" {
		t.Errorf("tokens issued per scope (-want +got):\n%s", diff)
	}
	if n := conns.n.Load(); n != 1 {
		t.Errorf("new connections = %d, want 1 (one kept-alive connection for every request)", n)
	}

	t.Run("warm cache digest refs", func(t *testing.T) {
		counter := registrytest.NewCounter(nil)
		c, err := registry.New(registry.WithCacheDir(cacheDir), registry.WithTransport(counter))
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range c.LookupAll(context.Background(), br.digestRefs(), nil) {
			if res.Err != nil || len(res.Entries) == 0 {
				t.Errorf("%s: %v, entries %v", res.Ref, res.Err, res.Entries)
			}
		}
		if n := counter.Total(); n != 0 {
			t.Errorf("warm digest lookups sent %d requests, want 0: %q", n, counter.Requests())
		}
	})
	t.Run("warm cache tag refs within TTL", func(t *testing.T) {
		counter := registrytest.NewCounter(nil)
		c, err := registry.New(registry.WithCacheDir(cacheDir), registry.WithTransport(counter))
		if err != nil {
			t.Fatal(err)
		}
		for i, res := range c.LookupAll(context.Background(), br.tagRefs(), nil) {
			if res.Err != nil || res.Digest != br.digests[br.tagRefs()[i]] {
				t.Errorf("%s: %v, digest %s", res.Ref, res.Err, res.Digest)
			}
		}
		if n := counter.Total(); n != 0 {
			t.Errorf("warm tag lookups sent %d requests, want 0: %q", n, counter.Requests())
		}
	})
	t.Run("tag TTL expired", func(t *testing.T) {
		counter := registrytest.NewCounter(nil)
		c, err := registry.New(registry.WithCacheDir(cacheDir), registry.WithTransport(counter), registry.WithTagTTL(0))
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range c.LookupAll(context.Background(), br.tagRefs(), nil) {
			if res.Err != nil {
				t.Errorf("%s: %v", res.Ref, res.Err)
			}
		}
		// Tags are resolved again with one HEAD each (no pull on Docker
		// Hub); the digests are unchanged and known, so nothing is GET.
		if h, n, b := counter.Count(registrytest.ManifestHEAD), counter.Count(registrytest.ManifestGET),
			counter.Count(registrytest.BlobGET); h != 5 || n != 0 || b != 0 {
			t.Errorf("manifest HEADs, GETs, blob GETs = %d, %d, %d; want 5, 0, 0: %q", h, n, b, counter.Requests())
		}
	})
}

func TestConcurrentLookupsShareOneRequest(t *testing.T) {
	br := startBudgetRegistry(t)
	counter := registrytest.NewCounter(nil)
	c, err := registry.New(registry.WithoutCache(), registry.WithTransport(counter))
	if err != nil {
		t.Fatal(err)
	}
	ref := br.bearer.Ref("budget/single:v1")
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if res := c.Lookup(context.Background(), ref); res.Err != nil {
				t.Errorf("Lookup: %v", res.Err)
			}
		})
	}
	wg.Wait()
	if m, b, tok := counter.Count(registrytest.ManifestGET), counter.Count(registrytest.BlobGET),
		counter.Count(registrytest.Token); m != 1 || b != 1 || tok != 1 {
		t.Errorf("manifest GETs, blob GETs, tokens = %d, %d, %d; want 1, 1, 1: %q", m, b, tok, counter.Requests())
	}
}

// TestJobsBound checks that LookupAll runs at most WithJobs lookups at once
// (and more than one), and keeps results in input order.
func TestJobsBound(t *testing.T) {
	r := registrytest.StartInProcess(t)
	var refs []string
	digests := map[string]string{}
	for i := range 12 {
		ref := r.Ref("jobs/img:v" + string(rune('a'+i)))
		digests[ref] = registrytest.Push(t, ref, registrytest.Image(t, arm64))
		refs = append(refs, ref)
	}
	var inFlight, peak atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/manifests/") {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(30 * time.Millisecond)
		}
		r.Handler.ServeHTTP(w, req)
	}))
	t.Cleanup(slow.Close)
	host := strings.TrimPrefix(slow.URL, "http://")
	for i := range refs {
		refs[i] = strings.Replace(refs[i], r.Host, host, 1)
	}
	c, err := registry.New(registry.WithoutCache(), registry.WithJobs(3))
	if err != nil {
		t.Fatal(err)
	}
	results := c.LookupAll(context.Background(), refs, nil)
	for i, res := range results {
		if res.Ref != refs[i] || res.Err != nil || res.Digest != digests[strings.Replace(refs[i], host, r.Host, 1)] {
			t.Errorf("results[%d] = %s %s %v, want %s", i, res.Ref, res.Digest, res.Err, refs[i])
		}
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrent manifest requests = %d, want 2..3 with WithJobs(3)", p)
	}
}
