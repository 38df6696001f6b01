package registry_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
)

// pushHub pushes n single-platform images to hub's unmetered side and
// returns their references at the metered origin and their digests.
func pushHub(t *testing.T, hub *registrytest.HubServer, n int) ([]string, map[string]string) {
	t.Helper()
	refs := make([]string, n)
	digests := map[string]string{}
	for i := range refs {
		repo := fmt.Sprintf("quota/img%02d:v1", i)
		digests[hub.Ref(repo)] = registrytest.Push(t, hub.Registry.Ref(repo), registrytest.Image(t, arm64))
		refs[i] = hub.Ref(repo)
	}
	return refs, digests
}

// statsOf returns the Client's stats for host.
func statsOf(t *testing.T, c *registry.Client, host string) lookup.RegistryStats {
	t.Helper()
	for _, s := range c.Stats() {
		if s.Registry == host {
			return s
		}
	}
	t.Fatalf("no stats for %s in %+v", host, c.Stats())
	return lookup.RegistryStats{}
}

func TestPullQuota(t *testing.T) {
	hub := registrytest.StartHub(t, 10, 6*time.Hour)
	refs, digests := pushHub(t, hub, 30)
	c, err := registry.New(registry.WithCacheDir(t.TempDir()), registry.WithJobs(32))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	results := c.LookupAll(context.Background(), refs, nil)
	elapsed := time.Since(start)
	ok, limited := 0, 0
	for _, res := range results {
		switch {
		case res.Err == nil:
			ok++
			if res.Digest != digests[res.Ref] {
				t.Errorf("%s: digest %s, want %s", res.Ref, res.Digest, digests[res.Ref])
			}
		case lookup.CauseOf(res.Err) == lookup.CauseRateLimited:
			limited++
		default:
			t.Errorf("%s: %v, want success or rate limited", res.Ref, res.Err)
		}
	}
	if ok != 10 || limited != 20 {
		t.Errorf("answers, rate limited = %d, %d; want 10, 20", ok, limited)
	}
	if n := hub.Count(registrytest.ManifestGET); n != 10 {
		t.Errorf("manifest GETs at the origin = %d, want exactly the quota of 10", n)
	}
	if elapsed > time.Second {
		t.Errorf("lookups took %s; rate-limited ones must fail at once, not wait or retry", elapsed)
	}
	var quotaNotes []string
	for _, n := range c.Notes() {
		if strings.Contains(n, "used up") {
			quotaNotes = append(quotaNotes, n)
		}
	}
	if len(quotaNotes) != 1 || !strings.Contains(quotaNotes[0], "10 per 6h0m0s") ||
		!strings.Contains(quotaNotes[0], "log in") || !strings.Contains(quotaNotes[0], "mirror") {
		t.Errorf("quota notes = %q, want one naming the quota, the window and the fixes", quotaNotes)
	}
	st := statsOf(t, c, hub.Host)
	if st.Pulls != 10 || st.RateLimited != 20 || !st.Quota.Metered || st.Quota.Limit != 10 ||
		st.Quota.Remaining != 0 || st.Quota.Window != 6*time.Hour {
		t.Errorf("stats = %+v; want 10 pulls, 20 rate limited, quota 0 of 10 per 6h left", st)
	}
	t.Logf("%s; stats %+v; note: %s", elapsed, st, quotaNotes)
}

func TestPullReserve(t *testing.T) {
	hub := registrytest.StartHub(t, 10, time.Hour)
	refs, _ := pushHub(t, hub, 12)
	c, err := registry.New(registry.WithoutCache(), registry.WithPullReserve(4))
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, res := range c.LookupAll(context.Background(), refs, nil) {
		if res.Err == nil {
			ok++
		} else if lookup.CauseOf(res.Err) != lookup.CauseRateLimited {
			t.Errorf("%s: %v", res.Ref, res.Err)
		}
	}
	if n := hub.Count(registrytest.ManifestGET); n != 6 || ok != 6 {
		t.Errorf("manifest GETs, answers = %d, %d; want 6, 6 (quota 10, reserve 4)", n, ok)
	}
}

// TestQuota429 checks that a quota 429 is not retried and stops the
// registry's other lookups, while a 429 with Retry-After still is retried.
func TestQuota429(t *testing.T) {
	hub := registrytest.StartHub(t, 0, time.Hour)
	refs, _ := pushHub(t, hub, 5)
	c, err := registry.New(registry.WithoutCache(), registry.WithRetry(4, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range c.LookupAll(context.Background(), refs, nil) {
		if lookup.CauseOf(res.Err) != lookup.CauseRateLimited {
			t.Errorf("%s: %v, want rate limited", res.Ref, res.Err)
		}
	}
	if n := hub.Count(registrytest.ManifestGET); n != 1 {
		t.Errorf("manifest GETs = %d, want 1 (the quota 429 is neither retried nor repeated)", n)
	}

	fs := startFaultServer(t)
	registrytest.Push(t, fs.push("ra/quota:v1"), registrytest.Image(t, arm64))
	fs.on("ra/quota", "manifests", status(429)) // no Retry-After: a quota
	registrytest.Push(t, fs.push("ra/wait:v1"), registrytest.Image(t, arm64))
	fs.on("ra/wait", "manifests", firstN(1, status(429, "Retry-After", "1")))
	c, _ = registry.New(registry.WithoutCache(), registry.WithRetry(4, 10*time.Millisecond))
	if res := c.Lookup(context.Background(), fs.ref("ra/quota:v1")); lookup.CauseOf(res.Err) != lookup.CauseRateLimited {
		t.Errorf("quota 429: %v, want rate limited", res.Err)
	}
	if n := fs.count("ra/quota", "manifests"); n != 1 {
		t.Errorf("quota 429 sent %d times, want 1", n)
	}
	c, _ = registry.New(registry.WithoutCache(), registry.WithRetry(4, 10*time.Millisecond))
	if res := c.Lookup(context.Background(), fs.ref("ra/wait:v1")); res.Err != nil {
		t.Errorf("429 with Retry-After: %v, want a retry that succeeds", res.Err)
	}
}

func TestMirror(t *testing.T) {
	hub := registrytest.StartHub(t, 10, 6*time.Hour)
	mirror := registrytest.StartCounted(t, hub.Registry.Handler) // the same content on another port
	refs, digests := pushHub(t, hub, 30)
	cacheDir := t.TempDir()
	check := func(t *testing.T, results []lookup.Result) {
		t.Helper()
		for _, res := range results {
			if res.Err != nil || res.Digest != digests[res.Ref] || len(res.Entries) != 1 || res.Entries[0].Platform != arm64 {
				t.Errorf("%s: %v %s %v; want %s arm64", res.Ref, res.Err, res.Digest, res.Entries, digests[res.Ref])
			}
		}
	}

	c, err := registry.New(registry.WithCacheDir(cacheDir), registry.WithMirror(hub.Host, "http://"+mirror.Host))
	if err != nil {
		t.Fatal(err)
	}
	check(t, c.LookupAll(context.Background(), refs, nil))
	if g, h, m := hub.Count(registrytest.ManifestGET), hub.Count(registrytest.ManifestHEAD), mirror.Count(registrytest.ManifestGET); g != 0 || h != 30 || m != 30 {
		t.Errorf("origin GETs, origin HEADs, mirror GETs = %d, %d, %d; want 0, 30, 30", g, h, m)
	}
	if st := statsOf(t, c, mirror.Host); st.Pulls != 30 {
		t.Errorf("mirror stats %+v, want 30 pulls", st)
	}
	if len(c.Notes()) != 0 {
		t.Errorf("notes %q, want none", c.Notes())
	}

	t.Run("rerun after tag expiry", func(t *testing.T) {
		hub.Reset()
		before := mirror.Count(registrytest.ManifestGET)
		c, err := registry.New(registry.WithCacheDir(cacheDir), registry.WithTagTTL(0), registry.WithMirror(hub.Host, mirror.Host))
		if err != nil {
			t.Fatal(err)
		}
		check(t, c.LookupAll(context.Background(), refs, nil))
		if g, h, m := hub.Count(registrytest.ManifestGET), hub.Count(registrytest.ManifestHEAD), mirror.Count(registrytest.ManifestGET)-before; g != 0 || h != 30 || m != 0 {
			t.Errorf("origin GETs, origin HEADs, mirror GETs = %d, %d, %d; want 0, 30, 0", g, h, m)
		}
	})
	t.Run("rerun after tag expiry without a mirror", func(t *testing.T) {
		hub.Reset()
		c, err := registry.New(registry.WithCacheDir(cacheDir), registry.WithTagTTL(0))
		if err != nil {
			t.Fatal(err)
		}
		check(t, c.LookupAll(context.Background(), refs, nil))
		if g, h := hub.Count(registrytest.ManifestGET), hub.Count(registrytest.ManifestHEAD); g != 0 || h != 30 {
			t.Errorf("origin GETs, HEADs = %d, %d; want 0, 30", g, h)
		}
	})
	t.Run("moved tag", func(t *testing.T) {
		hub.Reset()
		moved := registrytest.Push(t, hub.Registry.Ref("quota/img00:v1"), registrytest.Image(t, amd64))
		c, err := registry.New(registry.WithCacheDir(cacheDir), registry.WithTagTTL(0), registry.WithMirror(hub.Host, mirror.Host))
		if err != nil {
			t.Fatal(err)
		}
		res := c.Lookup(context.Background(), refs[0])
		if res.Err != nil || res.Digest != moved || res.Entries[0].Platform != amd64 {
			t.Errorf("moved tag: %v %s %v; want %s amd64", res.Err, res.Digest, res.Entries, moved)
		}
		if g := hub.Count(registrytest.ManifestGET); g != 0 {
			t.Errorf("origin GETs = %d, want 0: the new digest comes from the mirror", g)
		}
	})
}

// TestTamperedMirror checks that a mirror serving other content for a
// digest is refused, said once, and the origin used.
func TestTamperedMirror(t *testing.T) {
	hub := registrytest.StartHub(t, 100, time.Hour)
	refs, digests := pushHub(t, hub, 4)
	other, _ := registrytest.Image(t, amd64).RawManifest()
	bad := registrytest.StartCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/sha256:") {
			w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
			_, _ = w.Write(other)
			return
		}
		hub.Registry.Handler.ServeHTTP(w, r)
	}))
	c, err := registry.New(registry.WithoutCache(), registry.WithMirror(hub.Host, bad.Host), registry.WithJobs(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range c.LookupAll(context.Background(), refs, nil) {
		if res.Err != nil || res.Digest != digests[res.Ref] || res.Entries[0].Platform != arm64 {
			t.Errorf("%s: %v %s %v; want %s arm64 from the origin", res.Ref, res.Err, res.Digest, res.Entries, digests[res.Ref])
		}
	}
	if g := hub.Count(registrytest.ManifestGET); g != 4 {
		t.Errorf("origin manifest GETs = %d, want 4 (the mirror's content refused)", g)
	}
	notes := c.Notes()
	if len(notes) != 1 || !strings.Contains(notes[0], bad.Host) || !strings.Contains(notes[0], "digest") {
		t.Errorf("notes = %q, want one naming the mirror and the digest mismatch", notes)
	}
}

func TestCircuitBreaker(t *testing.T) {
	fs := startFaultServer(t)
	var refs []string
	for i := range 8 {
		repo := fmt.Sprintf("down/img%d", i)
		registrytest.Push(t, fs.push(repo+":v1"), registrytest.Image(t, arm64))
		fs.on(repo, "manifests", status(503))
		refs = append(refs, fs.ref(repo+":v1"))
	}
	counter := registrytest.NewCounter(nil)
	c, err := registry.New(registry.WithoutCache(), registry.WithTransport(counter), registry.WithJobs(1),
		registry.WithRetry(2, time.Millisecond), registry.WithCircuitBreaker(3, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	results := c.LookupAll(context.Background(), refs, nil)
	for i, res := range results {
		want := lookup.CauseUnavailable
		if i < 3 {
			want = lookup.CauseServerError
		}
		if got := lookup.CauseOf(res.Err); got != want {
			t.Errorf("%s: cause %q (%v), want %q", res.Ref, got, res.Err, want)
		}
	}
	if n := counter.Count(registrytest.ManifestGET); n != 3*2 {
		t.Errorf("manifest GETs = %d, want 6 (3 lookups × 2 attempts), then none: %q", n, counter.Requests())
	}
	sent := counter.Total()
	if res := c.Lookup(context.Background(), fs.ref("down/img0:v2")); lookup.CauseOf(res.Err) != lookup.CauseUnavailable {
		t.Errorf("lookup with the breaker open: %v, want registry unavailable", res.Err)
	}
	if n := counter.Total() - sent; n != 0 {
		t.Errorf("an open breaker sent %d requests, want 0", n)
	}
	st := c.RegistryState(fs.host)
	if st.Breaker != lookup.BreakerOpen || st.BreakerTrips != 1 {
		t.Errorf("state = %+v, want open after 1 trip", st)
	}

	// After the cooldown one lookup tries again; its success closes it.
	time.Sleep(250 * time.Millisecond)
	registrytest.Push(t, fs.push("up/img:v1"), registrytest.Image(t, arm64))
	if res := c.Lookup(context.Background(), fs.ref("up/img:v1")); res.Err != nil {
		t.Errorf("lookup after the cooldown: %v", res.Err)
	}
	if st := c.RegistryState(fs.host); st.Breaker != lookup.BreakerClosed || st.BreakerTrips != 1 {
		t.Errorf("state = %+v, want closed again", st)
	}
}

func TestJobsPerRegistry(t *testing.T) {
	fs := startFaultServer(t)
	var refs []string
	inFlight, peak := make(chan struct{}, 64), 0
	peaks := make(chan int, 64)
	for i := range 10 {
		repo := fmt.Sprintf("slow/img%d", i)
		registrytest.Push(t, fs.push(repo+":v1"), registrytest.Image(t, arm64))
		fs.on(repo, "manifests", func(w http.ResponseWriter, r *http.Request, n int) bool {
			inFlight <- struct{}{}
			peaks <- len(inFlight)
			time.Sleep(30 * time.Millisecond)
			<-inFlight
			return false
		})
		refs = append(refs, fs.ref(repo+":v1"))
	}
	c, err := registry.New(registry.WithoutCache(), registry.WithJobs(16), registry.WithJobsPerRegistry(3))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range c.LookupAll(context.Background(), refs, nil) {
		if res.Err != nil {
			t.Errorf("%s: %v", res.Ref, res.Err)
		}
	}
	close(peaks)
	for p := range peaks {
		peak = max(peak, p)
	}
	if peak > 3 || peak < 2 {
		t.Errorf("peak manifest requests in flight = %d, want 2..3 with WithJobsPerRegistry(3)", peak)
	}
}

// TestHeadAfterQuota checks that a used-up quota still lets cached tags be
// revalidated with a HEAD, which spends no pull.
func TestHeadAfterQuota(t *testing.T) {
	hub := registrytest.StartHub(t, 2, time.Hour)
	refs, digests := pushHub(t, hub, 4)
	cacheDir := t.TempDir()
	c, _ := registry.New(registry.WithCacheDir(cacheDir), registry.WithJobs(1))
	first := c.LookupAll(context.Background(), refs, nil)
	// In order: the HEADs of the cached tags come first and teach the new
	// Client that no pull is left, so the others send no GET.
	c, _ = registry.New(registry.WithCacheDir(cacheDir), registry.WithTagTTL(0), registry.WithJobs(1))
	for i, res := range c.LookupAll(context.Background(), refs, nil) {
		if first[i].Err != nil {
			if lookup.CauseOf(res.Err) != lookup.CauseRateLimited {
				t.Errorf("%s: %v, want rate limited again", res.Ref, res.Err)
			}
			continue
		}
		if res.Err != nil || res.Digest != digests[res.Ref] {
			t.Errorf("%s: %v %s; want %s revalidated with a HEAD", res.Ref, res.Err, res.Digest, digests[res.Ref])
		}
	}
	if g, h := hub.Count(registrytest.ManifestGET), hub.Count(registrytest.ManifestHEAD); g != 2 || h != 2 {
		t.Errorf("GETs, HEADs = %d, %d; want 2 (the first run's), 2 (the rerun's)", g, h)
	}
}
