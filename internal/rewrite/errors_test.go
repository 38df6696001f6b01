package rewrite

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"bad.yaml", "apiVersion: v1\nkind: Pod\n---\nkind: Pod\nspec: [\n", "bad.yaml: line 5:"},
		{"bad.json", "{\n  \"kind\": \"Pod\",\n  \"spec\": {\n}\n", "bad.json:"},
		{"tab.yaml", "kind: Pod\nspec:\n\tcontainers: []\n", "tab.yaml: line 3:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testParser.Parse(tt.name, []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestMalformedObjectAlone: a malformed object fails alone, as in the
// reader: it is reported and left untouched, and the other objects of the
// file are still placed.
func TestMalformedObjectAlone(t *testing.T) {
	tests := []struct{ name, bad, want string }{
		{"bad pod spec", "kind: Pod\nmetadata: {name: bad}\nspec:\n  containers: 3\n", "x.yaml: line 4: Pod bad: spec: json: cannot unmarshal"},
		{"duplicate template", "kind: Deployment\nmetadata: {name: dup}\nspec:\n  template:\n    spec: {containers: [{image: example.com/multi:1}]}\n  template:\n    spec: {containers: [{image: example.com/amd:1}]}\n", `duplicate key "template" at lines 4 and 6`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := "kind: Pod\nmetadata: {name: good}\nspec:\n  containers:\n  - image: example.com/amd:1\n"
			in := tt.bad + "---\n" + good
			f, err := testParser.Parse("x.yaml", []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			res, err := f.Apply(testImages, optionsFor("x"))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Changes) != 2 {
				t.Fatalf("changes = %+v, want 2", res.Changes)
			}
			if c := res.Changes[0]; c.Err == nil || !strings.Contains(c.Err.Error(), tt.want) || c.Changed {
				t.Errorf("malformed object: Err = %v, Changed = %v; want an error containing %q, unchanged", c.Err, c.Changed, tt.want)
			}
			if c := res.Changes[1]; c.Err != nil || !c.Changed {
				t.Errorf("good object: Err = %v, Changed = %v; want it placed", c.Err, c.Changed)
			}
			if !strings.HasPrefix(string(res.Data), tt.bad+"---\n") {
				t.Errorf("the malformed object changed:\n%s", res.Data)
			}
		})
	}
}

func TestApplyKeepsUnknownFile(t *testing.T) {
	// A stream whose images are all unknown comes back byte for byte.
	data, err := os.ReadFile("testdata/kube-multidoc.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := testParser.Parse("x.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Apply(nil, optionsFor("x"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || string(res.Data) != string(data) {
		t.Fatal("a file with unknown images changed")
	}
	for _, c := range res.Changes {
		if !strings.Contains(c.Skipped, "unknown: no lookup result") {
			t.Errorf("%s: Skipped = %q", c.ID(), c.Skipped)
		}
	}
}

func TestApplyStyles(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "crlf and bom kept",
			in:   "\xef\xbb\xbfkind: Pod\r\nspec:\r\n  containers:\r\n  - image: example.com/amd:1\r\n",
			want: "\xef\xbb\xbfkind: Pod\r\nspec:\r\n  containers:\r\n  - image: example.com/amd:1\r\n  affinity:\r\n    nodeAffinity:\r\n      requiredDuringSchedulingIgnoredDuringExecution:\r\n        nodeSelectorTerms:\r\n        - matchExpressions:\r\n          - key: kubernetes.io/arch\r\n            operator: In\r\n            values:\r\n            - amd64\r\n",
		},
		{
			name: "aliased pod spec is copied, anchor stays",
			in:   "kind: List\nitems:\n- kind: Pod\n  spec: &s\n    containers:\n    - image: example.com/multi:1\n- kind: Pod\n  spec: *s\n",
			want: "kind: List\nitems:\n- kind: Pod\n  spec: &s\n    containers:\n    - image: example.com/multi:1\n    tolerations:\n    - key: arm\n      operator: Equal\n      value: \"true\"\n      effect: NoSchedule\n- kind: Pod\n  spec:\n    containers:\n    - image: example.com/multi:1\n    tolerations:\n    - key: arm\n      operator: Equal\n      value: \"true\"\n      effect: NoSchedule\n",
		},
		{
			name: "compact json stays compact",
			in:   `{"kind":"Pod","spec":{"containers":[{"image":"example.com/amd:1"}]}}`,
			want: `{"kind":"Pod","spec":{"containers":[{"image":"example.com/amd:1"}],"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/arch","operator":"In","values":["amd64"]}]}]}}}}}`,
		},
		{
			name: "empty tolerations list and null nodeSelector are filled",
			in:   "kind: Pod\nspec:\n  nodeSelector:\n  tolerations: []\n  containers:\n  - image: example.com/arm:1\n",
			want: "kind: Pod\nspec:\n  nodeSelector:\n  tolerations:\n  - key: arm\n    operator: Equal\n    value: \"true\"\n    effect: NoSchedule\n  containers:\n  - image: example.com/arm:1\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchExpressions:\n          - key: kubernetes.io/arch\n            operator: In\n            values:\n            - arm64\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := testParser.Parse("x", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			res, err := f.Apply(testImages, optionsFor("x"))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(res.Data); got != tt.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("content = %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x.yaml"), []byte("x")); err == nil {
		t.Error("WriteFile into a missing directory: want error")
	}
}

// TestReplaceFile: what --in-place does to real files: it refuses a
// read-only file and one changed since it was read (both untouched), keeps
// setgid and the owner, and writes through a symbolic link.
func TestReplaceFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	content := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	ro := write("ro.yaml", 0o444)
	if err := ReplaceFile(ro, []byte("old\n"), []byte("new\n")); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("read-only file: err = %v, want a read-only error", err)
	}
	if content(ro) != "old\n" {
		t.Error("read-only file was written")
	}

	changed := write("changed.yaml", 0o644)
	if err := os.WriteFile(changed, []byte("old\nsomeone else's line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(changed, []byte("old\n"), []byte("new\n")); err == nil || !strings.Contains(err.Error(), "changed since") {
		t.Errorf("concurrently changed file: err = %v, want a conflict", err)
	}
	if content(changed) != "old\nsomeone else's line\n" {
		t.Error("a concurrent writer's bytes were lost")
	}

	sgid := write("sgid.yaml", os.ModeSetgid|0o755)
	if err := ReplaceFile(sgid, []byte("old\n"), []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(sgid); info.Mode()&os.ModeSetgid == 0 || info.Mode().Perm() != 0o755 || content(sgid) != "new\n" {
		t.Errorf("setgid file: mode %v, content %q; want setgid 0755 kept and the new content", info.Mode(), content(sgid))
	}

	target := write("target.yaml", 0o644)
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink("target.yaml", link); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(link, []byte("old\n"), []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 || content(target) != "new\n" {
		t.Errorf("symlink: link mode %v, target %q; want the link kept and its target written", fi.Mode(), content(target))
	}

	if os.Getuid() == 0 {
		owned := write("owned.yaml", 0o644)
		if err := os.Chown(owned, 1234, 5678); err != nil {
			t.Fatal(err)
		}
		if err := ReplaceFile(owned, []byte("old\n"), []byte("new\n")); err != nil {
			t.Fatal(err)
		}
		st := statOwner(t, owned)
		if st != [2]int{1234, 5678} {
			t.Errorf("owner after replace = %v, want 1234:5678 kept (running as root)", st)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".archway-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func statOwner(t *testing.T, p string) [2]int {
	t.Helper()
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	return [2]int{int(st.Uid), int(st.Gid)}
}
