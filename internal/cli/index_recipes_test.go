package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// recipesDir holds the CI recipes the README points at.
const recipesDir = "../../examples/ci"

// TestCIRecipes parses every CI recipe under examples/ci and checks each
// archway command line in it against the real command tree: the command
// exists, its flags parse and its arguments pass the command's own
// validation, without running it.
func TestCIRecipes(t *testing.T) {
	// Each recipe must hold at least these archway commands.
	want := map[string][]string{
		"github-actions.yml":         {"index create", "index inspect"},
		"gitlab-ci.yml":              {"index create", "index inspect"},
		"aws/buildspec-manifest.yml": {"index create", "index inspect"},
		"aws/buildspec-build.yml":    nil,
		"aws/pipeline.yml":           nil,
	}
	found := map[string]bool{}
	err := filepath.WalkDir(recipesDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".yml" && filepath.Ext(path) != ".yaml") {
			return err
		}
		rel, _ := filepath.Rel(recipesDir, path)
		rel = filepath.ToSlash(rel)
		found[rel] = true
		t.Run(rel, func(t *testing.T) {
			wantCmds, ok := want[rel]
			if !ok {
				t.Fatalf("recipe %s is not listed in this test", rel)
			}
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(body, &doc); err != nil {
				t.Fatalf("not YAML: %v", err)
			}
			seen := map[string]int{}
			for _, s := range scalars(&doc) {
				for _, line := range archwayCommands(t, s) {
					name, err := checkArchwayArgs(line)
					if err != nil {
						t.Errorf("archway %s: %v", strings.Join(line, " "), err)
					}
					seen[name]++
				}
			}
			for _, c := range wantCmds {
				if seen[c] == 0 {
					t.Errorf("no 'archway %s' in %s (found %v)", c, rel, seen)
				}
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range want {
		if !found[rel] {
			t.Errorf("recipe %s is missing", rel)
		}
	}
}

// scalars returns every scalar value in a YAML document.
func scalars(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, scalars(c)...)
	}
	return out
}

// archwayCommands splits a shell script into words and returns the
// arguments of every archway command in it (after "archway").
func archwayCommands(t *testing.T, script string) [][]string {
	t.Helper()
	var out [][]string
	for _, cmd := range shellCommands(t, script) {
		if len(cmd) > 0 && cmd[0] == "archway" {
			out = append(out, cmd[1:])
		}
	}
	return out
}

// shellCommands splits script into simple commands (split at newlines, |,
// ;, &&, ||) of words, with quotes removed and backslash-newline joined.
// Expansions ($VAR, $(...)) are kept as written: flags do not depend on them.
func shellCommands(t *testing.T, script string) [][]string {
	t.Helper()
	var (
		cmds  [][]string
		words []string
		word  strings.Builder
		inW   bool
		quote rune
		depth int // $( nesting outside quotes
	)
	endWord := func() {
		if inW {
			words = append(words, word.String())
			word.Reset()
			inW = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	rs := []rune(script)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case r == '\\' && i+1 < len(rs):
			i++
			if rs[i] != '\n' {
				word.WriteRune(rs[i])
				inW = true
			}
		case r == '\'' || r == '"':
			quote, inW = r, true
		case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
			depth++
			word.WriteString("$(")
			i++
			inW = true
		case r == ')' && depth > 0:
			depth--
			word.WriteRune(r)
		case depth > 0:
			word.WriteRune(r)
		case r == '#' && !inW:
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			endCmd()
		case r == ' ' || r == '\t':
			endWord()
		case r == '\n' || r == ';' || r == '|' || r == '&':
			endCmd()
		default:
			word.WriteRune(r)
			inW = true
		}
	}
	if quote != 0 {
		t.Errorf("unterminated %c quote in:\n%s", quote, script)
	}
	endCmd()
	return cmds
}

// checkArchwayArgs finds the command args name in archway's real command
// tree, parses its flags and runs its argument checks (Args and PreRunE),
// not its RunE. It returns the command's path without "archway".
func checkArchwayArgs(args []string) (string, error) {
	root := newRootCmd()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return "", err
	}
	name := strings.TrimPrefix(cmd.CommandPath(), "archway ")
	if cmd == root || !cmd.Runnable() {
		return name, fmt.Errorf("%q is not a command", name)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return name, err
	}
	pos := cmd.Flags().Args()
	if err := cmd.ValidateArgs(pos); err != nil {
		return name, err
	}
	if cmd.PreRunE != nil {
		if err := cmd.PreRunE(cmd, pos); err != nil {
			return name, err
		}
	}
	return name, nil
}

// TestCheckArchwayArgs makes sure the recipe check can fail.
func TestCheckArchwayArgs(t *testing.T) {
	for _, tc := range []struct {
		script string
		ok     bool
	}{
		{`archway index create --expect linux/amd64 "$IMAGE:1" "$IMAGE@$(cat digest-amd64)"`, true},
		{"echo x | archway index create \\\n  --template 'r/a:1-{arch}' --platforms linux/arm64 r/a:1 # done", true},
		{`archway index create --expect linux/amd64 "$IMAGE:1"`, false},                       // no source
		{`archway index create --expected linux/amd64 a:1 b:1`, false},                        // no such flag
		{`archway index create --media-type v2 a:1 b:1`, false},                               // bad value
		{`archway index creat a:1 b:1`, false},                                                // no such command
		{`archway index create --template 'a-{arch}' --platforms linux/arm64 a:1 b:1`, false}, // template takes TARGET only
		{`archway index inspect`, false},
	} {
		cmds := archwayCommands(t, tc.script)
		if len(cmds) != 1 {
			t.Errorf("%q: %d archway commands, want 1", tc.script, len(cmds))
			continue
		}
		if _, err := checkArchwayArgs(cmds[0]); (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok = %t", tc.script, err, tc.ok)
		}
	}
}
