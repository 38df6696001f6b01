package kustomize

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TestRemoteResourcesRefused: a kustomization naming a remote resource,
// base or component is refused with a clear error, and nothing is fetched
// (an endless body on loopback is never asked for).
func TestRemoteResourcesRefused(t *testing.T) {
	var asked atomic.Int32
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		for {
			if _, err := w.Write([]byte("# more\n")); err != nil {
				return
			}
		}
	}))
	t.Cleanup(endless.Close)
	for _, entry := range []string{
		endless.URL + "/endless.yaml",
		"github.com/example/deploy//base?ref=v1.0.0",
		"git@github.com:example/deploy.git",
		"https://example.invalid/base",
	} {
		t.Run(entry, func(t *testing.T) {
			dir := t.TempDir()
			k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deploy.yaml\n  - " + entry + "\n"
			if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
				t.Fatal(err)
			}
			pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x:1}]}\n"
			if err := os.WriteFile(filepath.Join(dir, "deploy.yaml"), []byte(pod), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Read(dir)
			if !errors.Is(err, ErrRemote) {
				t.Fatalf("Read: %v, want the remote resource refused", err)
			}
		})
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the remote resource was fetched %d times", n)
	}
}

// TestRemoteInLocalBase: a remote resource named by a local base is
// refused too.
func TestRemoteInLocalBase(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "kustomization.yaml"), "resources: [base]\n")
	write(filepath.Join(base, "kustomization.yaml"), "resources: [\"https://example.invalid/x.yaml\"]\n")
	if _, _, err := Read(dir); !errors.Is(err, ErrRemote) {
		t.Fatalf("Read: %v, want the base's remote resource refused", err)
	}
}
