package advisor

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// seedRow is one row of the seed's "Ecosystem support" table.
type seedRow struct{ name, link, comment string }

var (
	issueRef   = regexp.MustCompile(`^[\w.-]+/[\w.-]+#\d+$`)
	seedVer    = regexp.MustCompile(`(\d+(?:\.\d+)+)(-[a-z]+)?`)
	linkTagVer = regexp.MustCompile(`/tag/(v?\d+(?:\.\d+)+)$`)
)

// readSeedTable parses the table as the seed writes it: after the
// "이름 URL 설명" (name, URL, description) header, one row a line: the
// name, the link (a URL, an owner/repo#N issue, or an ECR image), and a
// free-text comment.
func readSeedTable(t *testing.T) []seedRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "seed-ecosystem.ko.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []seedRow
	inTable := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "이름 URL 설명":
			inTable = true
			continue
		case !inTable || line == "":
			continue
		}
		fields := strings.Fields(line)
		at := slices.IndexFunc(fields, func(s string) bool {
			return strings.HasPrefix(s, "http") || issueRef.MatchString(s) || strings.Contains(s, ".dkr.ecr.")
		})
		if at < 1 {
			t.Fatalf("seed row without a link: %q", line)
		}
		rows = append(rows, seedRow{strings.Join(fields[:at], " "), fields[at], strings.Join(fields[at+1:], " ")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestSeedRows: every row of the seed's table is in the embedded data,
// with the seed's link, and with the first arm64 version the seed states
// (a comment saying "부터" (from), "이후" (after) or "arm64는" (for arm64),
// or a release-tag link).
func TestSeedRows(t *testing.T) {
	rows := readSeedTable(t)
	if len(rows) < 45 {
		t.Fatalf("read %d seed rows; the table has about 50", len(rows))
	}
	eco, err := LoadEcosystem()
	if err != nil {
		t.Fatal(err)
	}
	if len(eco.Projects) != len(rows) {
		t.Errorf("the data has %d projects, the seed %d rows", len(eco.Projects), len(rows))
	}
	versions := 0
	for _, r := range rows {
		p, ok := eco.Project(r.name)
		if !ok {
			t.Errorf("seed row %q is not in ecosystem.yaml", r.name)
			continue
		}
		if p.Link != r.link {
			t.Errorf("%s: link %q, the seed's is %q", r.name, p.Link, r.link)
		}
		var want string
		if m := linkTagVer.FindStringSubmatch(r.link); m != nil {
			want = m[1]
		}
		if strings.Contains(r.comment, "부터") || strings.Contains(r.comment, "이후") || strings.Contains(r.comment, "arm64는") {
			if m := seedVer.FindString(r.comment); m != "" {
				want = m
			}
		}
		if want == "" {
			continue
		}
		versions++
		if !sameVersion(want, p.Since) {
			t.Errorf("%s: since %q, the seed says %q (%s)", r.name, p.Since, want, r.comment)
		}
	}
	if versions < 15 {
		t.Errorf("only %d seed rows state a version; the table has about 17", versions)
	}
}

// sameVersion: the seed's version (maybe shorter: v1.20) is the data's
// (v1.20.0), pre-release included.
func sameVersion(seed, data string) bool {
	a, ok1 := Parse(seed)
	b, ok2 := Parse(data)
	if !ok1 || !ok2 || a.Pre != b.Pre {
		return false
	}
	for i := range b.Release {
		x := 0
		if i < len(a.Release) {
			x = a.Release[i]
		}
		if x != b.Release[i] {
			return false
		}
	}
	return len(a.Release) <= len(b.Release)
}

func TestEcosystemLookups(t *testing.T) {
	eco, err := LoadEcosystem()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range eco.Projects {
		if p.Since != "" {
			if _, ok := Parse(p.Since); !ok {
				t.Errorf("%s: since %q is not a version", p.Project, p.Since)
			}
		}
	}
	if p, ok := eco.ForRepo("index.docker.io/library/nats"); !ok || p.Project != "Nats" {
		t.Errorf("ForRepo(nats) = %v %v", p, ok)
	}
	for from, want := range map[string]string{
		"k8s.gcr.io/autoscaling/cluster-autoscaler": "registry.k8s.io/autoscaling/cluster-autoscaler",
		"k8s.gcr.io/metrics-server-arm64":           "registry.k8s.io/metrics-server/metrics-server",
		"datadog/agent-arm64":                       "docker.io/datadog/agent",
		"amazon/aws-alb-ingress-controller":         "public.ecr.aws/eks/aws-load-balancer-controller",
		"ghcr.io/org/tool-amd64":                    "ghcr.io/org/tool",
	} {
		if got, _, ok := eco.ReplacementFor(from); !ok || got != want {
			t.Errorf("ReplacementFor(%s) = %q, want %q", from, got, want)
		}
	}
	if _, _, ok := eco.ReplacementFor("docker.io/library/nginx"); ok {
		t.Error("nginx has no replacement")
	}
}

func TestEcosystemFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("projects:\n  - project: istio\n    repos: [ghcr.io/me/istio]\n    since: \"1.16.0\"\n"), 0o644)
	eco, err := LoadEcosystem(good)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := eco.Project("Istio"); p.Since != "1.16.0" || len(eco.Projects) != len(readSeedTable(t)) {
		t.Errorf("override: %+v, %d projects", p, len(eco.Projects))
	}
	for name, body := range map[string]string{
		"typo.yaml":   "projects:\n  - project: x\n    sincee: 1\n",
		"empty.yaml":  "projects: []\n",
		"noname.yaml": "projects:\n  - repos: [a/b]\n",
	} {
		f := filepath.Join(dir, name)
		os.WriteFile(f, []byte(body), 0o644)
		if _, err := LoadEcosystem(f); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v, want one naming the file", name, err)
		}
	}
	if _, err := LoadEcosystem(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}
