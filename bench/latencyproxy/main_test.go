package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestProxyDelaysAndCounts(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.URL.Path)
	}))
	t.Cleanup(up.Close)
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	const delay = 40 * time.Millisecond
	px := httptest.NewServer(newProxy(u, delay))
	t.Cleanup(px.Close)

	for _, path := range []string{"/v2/", "/v2/a/b/manifests/1.0", "/v2/a/b/manifests/1.0", "/v2/a/b/blobs/sha256:00"} {
		start := time.Now()
		resp, err := http.Get(px.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Path"); got != path {
			t.Errorf("upstream saw %q, want %q", got, path)
		}
		if el := time.Since(start); el < 2*delay {
			t.Errorf("GET %s took %s, want at least %s (a delay each way)", path, el, 2*delay)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"stats", "-json", "-addr", px.Listener.Addr().String()}, &out); err != nil {
		t.Fatal(err)
	}
	var counts map[string]int
	if err := json.Unmarshal(out.Bytes(), &counts); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"GET ping": 1, "GET manifest": 2, "GET blob": 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if err := run(t.Context(), []string{"stats", "-reset", "-addr", px.Listener.Addr().String()}, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(t.Context(), []string{"stats", "-addr", px.Listener.Addr().String()}, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "total\t0\n" {
		t.Errorf("after reset: %q", got)
	}

	if err := run(t.Context(), []string{"stats", "-set-delay", "0s", "-addr", px.Listener.Addr().String()}, &out); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.Get(px.URL + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if el := time.Since(start); el >= 2*delay {
		t.Errorf("with the delay set to 0, GET took %s", el)
	}
	if err := run(t.Context(), []string{"stats", "-set-delay", "soon", "-addr", px.Listener.Addr().String()}, &out); err == nil {
		t.Error("-set-delay soon: no error")
	}
}
