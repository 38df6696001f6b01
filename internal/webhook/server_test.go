package webhook_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/archwaydev/archway/internal/certs"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/webhook"
)

func writeCerts(t *testing.T, dir string, mtime time.Time) *certs.Serving {
	t.Helper()
	c, err := certs.NewServing("test-ca", []string{"127.0.0.1", "localhost"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := c.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{certFile, keyFile} {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func tlsClient(t *testing.T, caPEM []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("bad CA PEM")
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		DisableKeepAlives: true,
	}}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServer(t *testing.T) {
	dir := t.TempDir()
	serving := writeCerts(t, dir, time.Now().Add(-time.Minute))
	reg := registrytest.StartInProcess(t)
	image := reg.Ref("legacy:1")
	registrytest.Push(t, image, registrytest.Image(t, platform.LinuxAMD64))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := webhook.NewServer(ctx, webhook.Config{
		Addr:        "127.0.0.1:0",
		MetricsAddr: "127.0.0.1:0",
		CertFile:    filepath.Join(dir, "tls.crt"),
		KeyFile:     filepath.Join(dir, "tls.key"),
		Keychain:    authn.NewMultiKeychain(),
	})
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + srv.Addr()
	client := tlsClient(t, serving.CAPEM)

	resp, err := client.Post(base+webhook.MutatePath, "application/json", bytes.NewReader(review(t, request(t, pod(image), admissionv1.Create))))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"patchType":"JSONPatch"`) {
		t.Fatalf("mutate: %d %s", resp.StatusCode, body)
	}

	for _, url := range []string{base + "/healthz", base + "/readyz", "http://" + srv.MetricsAddr() + "/healthz", "http://" + srv.MetricsAddr() + "/readyz"} {
		if code, body := get(t, client, url); code != 200 || body != "ok\n" {
			t.Errorf("GET %s = %d %q", url, code, body)
		}
	}
	for _, url := range []string{base + "/metrics", "http://" + srv.MetricsAddr() + "/metrics"} {
		code, body := get(t, client, url)
		if code != 200 || !strings.Contains(body, `archway_webhook_admissions_total{outcome="placed"} 1`) || !strings.Contains(body, "archway_webhook_cache_misses_total 1") {
			t.Errorf("GET %s = %d, metrics missing:\n%.2000s", url, code, body)
		}
	}

	t.Run("certificate reloaded without restart", func(t *testing.T) {
		renewed := writeCerts(t, dir, time.Now())
		newClient := tlsClient(t, renewed.CAPEM)
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := newClient.Get(base + "/healthz")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("renewed certificate never served: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, err := client.Get(base + "/healthz"); err == nil {
			t.Error("the old CA still verifies the server after renewal")
		}
	})

	t.Run("bad renewal keeps the certificate", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "tls.crt"), []byte("half-written"), 0o600); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond)
		c, err := tls.Dial("tcp", srv.Addr(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("handshake after a bad renewal: %v", err)
		}
		_ = c.Close()
	})

	cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Wait = %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not shut down")
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}
