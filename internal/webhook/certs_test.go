package webhook_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/certs"
	"github.com/archwaydev/archway/internal/webhook"
)

// TestCertReloaderSecretVolume renews the pair the way the kubelet updates
// a Secret volume: new files in a new directory, then the ..data symlink
// swapped atomically.
func TestCertReloaderSecretVolume(t *testing.T) {
	dir := t.TempDir()
	write := func(version string) *certs.Serving {
		c, err := certs.NewServing("test-ca", []string{"127.0.0.1"}, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(dir, version), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.WriteFiles(filepath.Join(dir, version)); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(version, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := write("..v1")
	for _, f := range []string{"tls.crt", "tls.key"} {
		if err := os.Symlink(filepath.Join("..data", f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := webhook.NewCertReloader(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	serial := func() string {
		c, err := r.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.SerialNumber.String()
	}
	want := func(c *certs.Serving) string {
		leaf, err := x509.ParseCertificate(mustPEM(t, c.CertPEM))
		if err != nil {
			t.Fatal(err)
		}
		return leaf.SerialNumber.String()
	}
	if got := serial(); got != want(first) {
		t.Fatalf("serial %s, want the first certificate's %s", got, want(first))
	}
	time.Sleep(10 * time.Millisecond) // a distinct modification time
	second := write("..v2")
	deadline := time.Now().Add(5 * time.Second)
	for serial() != want(second) {
		if time.Now().After(deadline) {
			t.Fatal("the swapped certificate was never loaded")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCertReloaderMissingFiles(t *testing.T) {
	_, err := webhook.NewCertReloader("/nonexistent/tls.crt", "/nonexistent/tls.key", nil)
	if err == nil {
		t.Fatal("no error for missing files")
	}
}
