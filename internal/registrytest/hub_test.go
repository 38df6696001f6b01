package registrytest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registrytest"
)

// TestHub checks the Docker-Hub-like metering with plain HTTP requests:
// GETs are pulls, HEADs are free, both carry the headers, and a GET past
// the limit is a 429 TOOMANYREQUESTS with no Retry-After.
func TestHub(t *testing.T) {
	hub := registrytest.StartHub(t, 2, 6*time.Hour)
	registrytest.Push(t, hub.Registry.Ref("hub/app:1"), registrytest.Image(t, platform.MustParse("linux/arm64")))
	url := hub.Server.URL + "/v2/hub/app/manifests/1"
	do := func(method string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	steps := []struct {
		method    string
		status    int
		remaining string
	}{
		{http.MethodHead, 200, "2;w=21600"},
		{http.MethodGet, 200, "1;w=21600"},
		{http.MethodHead, 200, "1;w=21600"},
		{http.MethodGet, 200, "0;w=21600"},
		{http.MethodGet, 429, "0;w=21600"},
		{http.MethodHead, 200, "0;w=21600"},
	}
	for i, s := range steps {
		resp, body := do(s.method)
		if resp.StatusCode != s.status || resp.Header.Get("ratelimit-remaining") != s.remaining ||
			resp.Header.Get("ratelimit-limit") != "2;w=21600" {
			t.Errorf("step %d %s: %d, limit %q, remaining %q; want %d, 2;w=21600, %q", i, s.method, resp.StatusCode,
				resp.Header.Get("ratelimit-limit"), resp.Header.Get("ratelimit-remaining"), s.status, s.remaining)
		}
		if s.status == 429 && (!strings.Contains(body, "TOOMANYREQUESTS") || resp.Header.Get("Retry-After") != "") {
			t.Errorf("429 body %q, Retry-After %q; want TOOMANYREQUESTS and none", body, resp.Header.Get("Retry-After"))
		}
	}
	if p, g, h := hub.Pulls(), hub.Count(registrytest.ManifestGET), hub.Count(registrytest.ManifestHEAD); p != 2 || g != 3 || h != 3 {
		t.Errorf("pulls, GETs, HEADs = %d, %d, %d; want 2, 3, 3", p, g, h)
	}
	hub.Reset()
	if resp, _ := do(http.MethodGet); resp.StatusCode != 200 {
		t.Errorf("GET after Reset: %d, want 200", resp.StatusCode)
	}
}
