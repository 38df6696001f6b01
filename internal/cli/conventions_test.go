package cli

import (
	"strings"
	"testing"
)

// TestConventions: --version, version -o json, and value completion of the
// shared flags, through the real command tree.
func TestConventions(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--version"}, []string{"archway "}},
		{[]string{"version", "-o", "json"}, []string{`"version":`, `"go":`}},
		{[]string{"__complete", "scan", "--platform", ""}, []string{"linux/arm64", "linux/amd64"}},
		{[]string{"__complete", "scan", "-o", ""}, []string{"table", "json", "markdown", "html", "sarif"}},
		{[]string{"__complete", "check", "-o", ""}, []string{"table", "json"}},
		{[]string{"__complete", "scan", "--kind", ""}, []string{"kubernetes", "helm", "kustomize"}},
		{[]string{"__complete", "scan", "--fail-on", ""}, []string{"not-ready", "unknown", "never"}},
		{[]string{"__complete", "place", "--cluster-archs", ""}, []string{"amd64,arm64"}},
		{[]string{"completion", "bash"}, []string{"bash completion"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := runArchway(t.Context(), "", tt.args...)
			if got.code != 0 {
				t.Fatalf("exit %d: %s", got.code, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, got.stdout)
				}
			}
		})
	}
	if got := runArchway(t.Context(), "", "__complete", "check", "-o", ""); strings.Contains(got.stdout, "sarif") {
		t.Errorf("check completes -o with formats it does not take:\n%s", got.stdout)
	}
}
