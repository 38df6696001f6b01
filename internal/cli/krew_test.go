package cli

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"text/template"

	"sigs.k8s.io/yaml"
)

// krewPlugin mirrors krew's Plugin type (index/v1alpha2), to decode the
// manifest strictly.
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Caveats          string `json:"caveats,omitempty"`
		Platforms        []struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			URI    string `json:"uri"`
			Sha256 string `json:"sha256"`
			Bin    string `json:"bin"`
			Files  []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"files"`
		} `json:"platforms"`
	} `json:"spec"`
}

// TestKrewManifest renders deploy/krew/archway.yaml as krew-release-bot
// does and checks it as krew's validation would: the schema, a bin that
// is one of the installed files and named as kubectl plugins must be, one
// platform per os/arch, and a sha256 per archive.
func TestKrewManifest(t *testing.T) {
	src, err := os.ReadFile("../../deploy/krew/archway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const tag = "v1.2.3"
	tmpl, err := template.New("krew").Funcs(template.FuncMap{
		"addURIAndSha": func(uri, tag string) string {
			uri = strings.ReplaceAll(uri, "{{ .TagName }}", tag)
			return "uri: " + uri + "\n      sha256: " + strings.Repeat("ab", 32)
		},
	}).Parse(string(src))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, map[string]string{"TagName": tag}); err != nil {
		t.Fatal(err)
	}
	var p krewPlugin
	if err := yaml.UnmarshalStrict(out.Bytes(), &p); err != nil {
		t.Fatalf("rendered manifest does not decode strictly: %v\n%s", err, out.String())
	}
	if p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || p.Kind != "Plugin" || p.Metadata.Name != "archway" {
		t.Errorf("header = %s %s %s", p.APIVersion, p.Kind, p.Metadata.Name)
	}
	if p.Spec.Version != tag || p.Spec.ShortDescription == "" || len(p.Spec.ShortDescription) > 50 || p.Spec.Homepage == "" {
		t.Errorf("spec: version %q, shortDescription %q (krew wants 50 characters or fewer), homepage %q", p.Spec.Version, p.Spec.ShortDescription, p.Spec.Homepage)
	}
	seen := map[string]bool{}
	hex := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, pl := range p.Spec.Platforms {
		key := pl.Selector.MatchLabels["os"] + "/" + pl.Selector.MatchLabels["arch"]
		if seen[key] {
			t.Errorf("platform %s twice", key)
		}
		seen[key] = true
		if !strings.HasPrefix(pl.URI, "https://") || !strings.Contains(pl.URI, tag) || !hex.MatchString(pl.Sha256) {
			t.Errorf("%s: uri %q sha256 %q", key, pl.URI, pl.Sha256)
		}
		installed := false
		for _, f := range pl.Files {
			installed = installed || f.To == pl.Bin
		}
		if pl.Bin != pluginName || !installed {
			t.Errorf("%s: bin %q is not the installed %s", key, pl.Bin, pluginName)
		}
	}
	for _, want := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"} {
		if !seen[want] {
			t.Errorf("no %s platform", want)
		}
	}
	if got := displayName("/usr/local/bin/" + pluginName); got != "kubectl archway" {
		t.Errorf("displayName as a plugin = %q", got)
	}
}
