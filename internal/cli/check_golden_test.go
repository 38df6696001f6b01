package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update rewrites the golden files under testdata: go test ./internal/cli -update
var update = flag.Bool("update", false, "rewrite golden files under testdata")

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// runResult is the outcome of one in-process archway run.
type runResult struct {
	code           int
	stdout, stderr string
}

// runArchway runs archway in-process with args and stdin.
func runArchway(ctx context.Context, stdin string, args ...string) runResult {
	var out, errOut bytes.Buffer
	code := Execute(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return runResult{code: code, stdout: out.String(), stderr: errOut.String()}
}
