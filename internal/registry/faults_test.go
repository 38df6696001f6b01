package registry_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
)

// fault answers a request in place of the registry; it returns false to
// let the registry answer. n counts the requests of this kind (manifests
// or blobs) to this repository, from 1.
type fault func(w http.ResponseWriter, r *http.Request, n int) bool

// faultServer serves an in-process registry with scripted faults per
// repository.
type faultServer struct {
	reg    *registrytest.InProcess
	srv    *httptest.Server
	host   string
	faults map[string]fault

	mu   sync.Mutex
	hits map[string]int
}

func startFaultServer(t *testing.T) *faultServer {
	t.Helper()
	fs := &faultServer{reg: registrytest.StartInProcess(t), faults: map[string]fault{}, hits: map[string]int{}}
	fs.srv = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.srv.Close)
	fs.host = strings.TrimPrefix(fs.srv.URL, "http://")
	return fs
}

func (fs *faultServer) serve(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/v2/")
	for _, kind := range []string{"/manifests/", "/blobs/"} {
		repo, _, ok := strings.Cut(rest, kind)
		if !ok {
			continue
		}
		fs.mu.Lock()
		fs.hits[repo+kind]++
		n := fs.hits[repo+kind]
		f := fs.faults[repo+kind]
		fs.mu.Unlock()
		if f != nil && f(w, r, n) {
			return
		}
	}
	fs.reg.Handler.ServeHTTP(w, r)
}

func (fs *faultServer) count(repo, kind string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.hits[repo+"/"+kind+"/"]
}

// on scripts a fault for manifests or blobs of repo.
func (fs *faultServer) on(repo, kind string, f fault) { fs.faults[repo+"/"+kind+"/"] = f }

// ref is the reference through the fault server; push is where to push.
func (fs *faultServer) ref(s string) string  { return fs.host + "/" + s }
func (fs *faultServer) push(s string) string { return fs.reg.Ref(s) }

func status(code int, hdr ...string) fault {
	return func(w http.ResponseWriter, r *http.Request, n int) bool {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"errors":[{"code":"SCRIPTED","message":"scripted %d"}]}`, code)
		return true
	}
}

// firstN applies f to the first n requests only.
func firstN(n int, f fault) fault {
	return func(w http.ResponseWriter, r *http.Request, i int) bool {
		return i <= n && f(w, r, i)
	}
}

// reset closes the connection with a TCP RST instead of answering.
func reset(w http.ResponseWriter, r *http.Request, n int) bool {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return false
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
	return true
}

// stall answers only after the client has gone (or 5s).
func stall(w http.ResponseWriter, r *http.Request, n int) bool {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
	return true
}

// cutBody sends the headers and half of a 1000-byte body, then lets then
// do the rest (stall, reset).
func cutBody(then fault) fault {
	return func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.Header().Set("Content-Type", string(types.DockerManifestSchema2))
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"schemaVersion":2,` + strings.Repeat(" ", 480)))
		w.(http.Flusher).Flush()
		return then(w, r, n)
	}
}

// body answers 200 with the given content type, body and headers.
func body(mt, b string, hdr ...string) fault {
	return func(w http.ResponseWriter, r *http.Request, n int) bool {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", mt)
		_, _ = w.Write([]byte(b))
		return true
	}
}

// huge answers 200 with 5 MiB, announcing its length or not.
func huge(withLength bool) fault {
	return func(w http.ResponseWriter, r *http.Request, n int) bool {
		const size = 5 << 20
		w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
		if withLength {
			w.Header().Set("Content-Length", fmt.Sprint(size))
		}
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for written := 0; written < size; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return true
			}
			if f, ok := w.(http.Flusher); ok && !withLength {
				f.Flush()
			}
		}
		return true
	}
}

func TestFaults(t *testing.T) {
	fs := startFaultServer(t)
	img := func(repo string) string {
		return registrytest.Push(t, fs.push(repo), registrytest.Image(t, arm64))
	}
	type tc struct {
		ref   string
		cause lookup.Cause // empty: must succeed
		check func(t *testing.T)
	}
	var cases []tc
	add := func(repo string, cause lookup.Cause, check func(t *testing.T)) {
		cases = append(cases, tc{ref: fs.ref(repo), cause: cause, check: check})
	}
	wantHits := func(repo, kind string, n int) func(t *testing.T) {
		return func(t *testing.T) {
			if got := fs.count(repo, kind); got != n {
				t.Errorf("%s %s requests = %d, want %d", repo, kind, got, n)
			}
		}
	}

	img("good/a:v1")
	add("good/a:v1", "", nil)
	registrytest.PushIndex(t, fs.push("good/b:v1"), registrytest.Index(t, amd64, arm64))
	add("good/b:v1", "", nil)

	img("fault/ratelimit-once:v1")
	fs.on("fault/ratelimit-once", "manifests", firstN(1, status(429, "Retry-After", "1")))
	add("fault/ratelimit-once:v1", "", wantHits("fault/ratelimit-once", "manifests", 2))
	img("fault/ratelimit:v1")
	fs.on("fault/ratelimit", "manifests", status(429, "Retry-After", "1"))
	add("fault/ratelimit:v1", lookup.CauseRateLimited, wantHits("fault/ratelimit", "manifests", 3))

	img("fault/5xx-once:v1")
	fs.on("fault/5xx-once", "manifests", firstN(1, status(500)))
	add("fault/5xx-once:v1", "", wantHits("fault/5xx-once", "manifests", 2))
	img("fault/5xx:v1")
	fs.on("fault/5xx", "manifests", status(503))
	add("fault/5xx:v1", lookup.CauseServerError, wantHits("fault/5xx", "manifests", 3))
	img("fault/blob-5xx-once:v1")
	fs.on("fault/blob-5xx-once", "blobs", firstN(1, status(502)))
	add("fault/blob-5xx-once:v1", "", wantHits("fault/blob-5xx-once", "blobs", 2))

	img("fault/reset-once:v1")
	fs.on("fault/reset-once", "manifests", firstN(1, reset))
	add("fault/reset-once:v1", "", nil)
	img("fault/reset:v1")
	fs.on("fault/reset", "manifests", reset)
	add("fault/reset:v1", lookup.CauseNetwork, nil)

	img("fault/timeout:v1")
	fs.on("fault/timeout", "manifests", stall)
	add("fault/timeout:v1", lookup.CauseTimeout, wantHits("fault/timeout", "manifests", 1))
	img("fault/blob-timeout:v1")
	fs.on("fault/blob-timeout", "blobs", stall)
	add("fault/blob-timeout:v1", lookup.CauseTimeout, nil)

	img("fault/body-stall:v1")
	fs.on("fault/body-stall", "manifests", cutBody(stall))
	add("fault/body-stall:v1", lookup.CauseTimeout, nil)
	img("fault/body-reset-once:v1")
	fs.on("fault/body-reset-once", "manifests", firstN(1, cutBody(reset)))
	add("fault/body-reset-once:v1", "", wantHits("fault/body-reset-once", "manifests", 2))
	img("fault/body-reset:v1")
	fs.on("fault/body-reset", "manifests", cutBody(reset))
	add("fault/body-reset:v1", lookup.CauseNetwork, wantHits("fault/body-reset", "manifests", 3))

	add("fault/absent:v1", lookup.CauseNotFound, nil)

	img("fault/401:v1")
	fs.on("fault/401", "manifests", status(401, "WWW-Authenticate", `Basic realm="scripted"`))
	add("fault/401:v1", lookup.CauseUnauthorized, wantHits("fault/401", "manifests", 1))
	img("fault/403:v1")
	fs.on("fault/403", "manifests", status(403))
	add("fault/403:v1", lookup.CauseUnauthorized, nil)

	fs.on("fault/huge", "manifests", huge(true))
	add("fault/huge:v1", lookup.CauseTooLarge, nil)
	fs.on("fault/huge-chunked", "manifests", huge(false))
	add("fault/huge-chunked:v1", lookup.CauseTooLarge, nil)
	img("fault/huge-config:v1")
	fs.on("fault/huge-config", "blobs", huge(false))
	add("fault/huge-config:v1", lookup.CauseTooLarge, nil)

	// Digests: a registry that serves other content than asked for.
	other := registrytest.Image(t, amd64)
	otherRaw, _ := other.RawManifest()
	d := img("fault/wrong-digest:v1")
	fs.on("fault/wrong-digest", "manifests", body(string(types.DockerManifestSchema2), string(otherRaw)))
	add("fault/wrong-digest@"+d, lookup.CauseDigestMismatch, nil)
	img("fault/lying-header:v1")
	fs.on("fault/lying-header", "manifests", func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("0", 64))
		return body(string(types.DockerManifestSchema2), string(otherRaw))(w, r, n)
	})
	add("fault/lying-header:v1", lookup.CauseDigestMismatch, nil)
	otherCfg, _ := other.RawConfigFile()
	img("fault/wrong-config:v1")
	fs.on("fault/wrong-config", "blobs", body("application/octet-stream", string(otherCfg)))
	add("fault/wrong-config:v1", lookup.CauseDigestMismatch, nil)

	// Content that is not a readable image.
	fs.on("fault/garbage", "manifests", body(string(types.OCIManifestSchema1), `{"schemaVersion":2, "config": {not json`))
	add("fault/garbage:v1", lookup.CauseBadManifest, nil)
	fs.on("fault/garbage-index", "manifests", body(string(types.OCIImageIndex), `{"schemaVersion":2,"manifests":5}`))
	add("fault/garbage-index:v1", lookup.CauseBadManifest, nil)
	fs.on("fault/html", "manifests", body("text/html", `<html>gateway</html>`))
	add("fault/html:v1", lookup.CauseBadManifest, nil)
	img("fault/garbage-config:v1")
	fs.on("fault/garbage-config", "blobs", body("application/octet-stream", `{"os":`))
	add("fault/garbage-config:v1", lookup.CauseDigestMismatch, nil) // checked before parsing
	registrytest.Push(t, fs.push("fault/no-platform:v1"), registrytest.Image(t, platform.Platform{}))
	add("fault/no-platform:v1", lookup.CauseBadManifest, nil)
	registrytest.Push(t, fs.push("fault/helm:v1"),
		mutate.ConfigMediaType(registrytest.OCIImage(t, arm64), "application/vnd.cncf.helm.config.v1+json"))
	add("fault/helm:v1", lookup.CauseBadManifest, nil)
	// An index of attestations only is an answer: see TestArtifactsAreNotPlatforms.

	c, err := registry.New(registry.WithoutCache(), registry.WithRetry(3, 20*time.Millisecond),
		registry.WithRequestTimeout(2*time.Second), registry.WithMaxManifestBytes(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	refs := make([]string, len(cases))
	for i, c := range cases {
		refs[i] = c.ref
	}
	refs = append(refs, "127.0.0.1:1/refused/img:v1")
	start := time.Now()
	results := c.LookupAll(context.Background(), refs, nil)
	t.Logf("%d lookups with faults in %s", len(refs), time.Since(start).Round(time.Millisecond))
	cases = append(cases, tc{ref: refs[len(refs)-1], cause: lookup.CauseNetwork})
	for i, tc := range cases {
		t.Run(strings.TrimPrefix(tc.ref, fs.host+"/"), func(t *testing.T) {
			res := results[i]
			if res.Ref != tc.ref {
				t.Fatalf("Ref = %q, want %q", res.Ref, tc.ref)
			}
			if tc.cause == "" {
				if res.Err != nil || len(res.Entries) == 0 {
					t.Errorf("lookup = %v, %v; want success", res.Entries, res.Err)
				}
			} else {
				if res.Known() || len(res.Entries) != 0 {
					t.Fatalf("lookup succeeded with %v, want %q", res.Entries, tc.cause)
				}
				t.Logf("err: %v", res.Err)
				if got := lookup.CauseOf(res.Err); got != tc.cause {
					t.Errorf("cause = %q, want %q (err: %v)", got, tc.cause, res.Err)
				}
				if !strings.Contains(res.Err.Error(), tc.ref) {
					t.Errorf("error %q does not name the reference", res.Err)
				}
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	fs := startFaultServer(t)
	registrytest.Push(t, fs.push("ra/honoured:v1"), registrytest.Image(t, arm64))
	fs.on("ra/honoured", "manifests", firstN(1, status(429, "Retry-After", "1")))
	registrytest.Push(t, fs.push("ra/capped:v1"), registrytest.Image(t, arm64))
	fs.on("ra/capped", "manifests", firstN(1, status(429, "Retry-After", "3600")))

	t.Run("honoured", func(t *testing.T) {
		c, _ := registry.New(registry.WithoutCache(), registry.WithRetry(2, 5*time.Second))
		start := time.Now()
		res := c.Lookup(context.Background(), fs.ref("ra/honoured:v1"))
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if el := time.Since(start); el < time.Second || el > 4*time.Second {
			t.Errorf("lookup took %s, want about the 1s of Retry-After", el)
		}
	})
	t.Run("capped", func(t *testing.T) {
		c, _ := registry.New(registry.WithoutCache(), registry.WithRetry(2, 100*time.Millisecond))
		start := time.Now()
		res := c.Lookup(context.Background(), fs.ref("ra/capped:v1"))
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("lookup took %s, want the 100ms cap, not the hour of Retry-After", el)
		}
	})
}

func TestContextDeadline(t *testing.T) {
	fs := startFaultServer(t)
	registrytest.Push(t, fs.push("slow/img:v1"), registrytest.Image(t, arm64))
	fs.on("slow/img", "manifests", stall)
	c, _ := registry.New(registry.WithoutCache()) // 30s per request: the ctx deadline must win
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := c.Lookup(ctx, fs.ref("slow/img:v1"))
	if got := lookup.CauseOf(res.Err); got != lookup.CauseTimeout {
		t.Errorf("cause = %q (%v), want timeout", got, res.Err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("lookup took %s past a 300ms deadline", el)
	}
}
