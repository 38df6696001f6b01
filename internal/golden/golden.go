// Package golden compares test output with golden files and rewrites them
// when the tests run with -update, or with UPDATE_GOLDEN=1 in the
// environment (which, unlike the flag, every package's test binary
// accepts: UPDATE_GOLDEN=1 go test ./...). `make golden` does the latter.
// It is imported by tests only.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Check compares got with the file at path; with -update it first writes got
// there, creating the directory.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update || os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
