package registrytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// NeedGoTool returns the path of a Go tool the tests run (crane, regctl),
// looked up on PATH, then in $GOBIN and $GOPATH/bin (default ~/go/bin),
// where go install puts it. When it is missing the test is skipped with a
// message, or fails when CI=true: hack/test-deps.sh installs it.
func NeedGoTool(t testing.TB, bin, module string) string {
	t.Helper()
	if path, err := exec.LookPath(bin); err == nil {
		return path
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		dirs = append(dirs, filepath.Join(d, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		path := filepath.Join(d, bin)
		if st, err := os.Stat(path); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return path
		}
	}
	missing(t, fmt.Sprintf("%s not installed (go install %s; bash hack/test-deps.sh installs it)", bin, module))
	return ""
}

// missing skips the test for a missing tool, or fails it when CI=true.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
