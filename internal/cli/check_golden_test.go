package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "github.com/archwaydev/archway/internal/golden"
)

// golden compares got with testdata/name (-update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), []byte(got))
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
