package advisor

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/archwaydev/archway/internal/walk"
)

//go:embed ecosystem.yaml
var embeddedEcosystem []byte

// Ecosystem is what is known of popular projects' images: from which
// version each ships arm64, and which repositories replaced others.
type Ecosystem struct {
	// Projects are the known projects, one per row of the seed's table.
	Projects []Project `yaml:"projects"`
	// Replacements are repositories that moved or merged.
	Replacements []Replacement `yaml:"replacements"`
}

// Project is one project and the repositories it publishes images under.
type Project struct {
	// Project is the project's name, as the seed's table writes it.
	Project string `yaml:"project"`
	// Repos are its image repositories, fully qualified
	// (docker.io/library/nats, registry.k8s.io/...).
	Repos []string `yaml:"repos"`
	// Since is the first version with arm64 images, when known.
	Since string `yaml:"since,omitempty"`
	// Notes say what else is known.
	Notes string `yaml:"notes,omitempty"`
	// Link is where it is said.
	Link string `yaml:"link,omitempty"`
}

// Replacement says that images under From are now under To.
type Replacement struct {
	// From is a repository, or with Prefix a name prefix ("k8s.gcr.io/").
	From string `yaml:"from"`
	// To is the new repository, or with Prefix the new prefix.
	To string `yaml:"to"`
	// Prefix rewrites every repository under From, keeping the rest.
	Prefix bool `yaml:"prefix,omitempty"`
	// Newest suggests To's newest release rather than the same tag (the
	// new project's versions do not continue the old one's).
	Newest bool `yaml:"newest,omitempty"`
	// Label says what changed, for the report.
	Label string `yaml:"label"`
}

// LoadEcosystem returns the embedded data with each file's entries added,
// a project of the same name (case-insensitive) or a replacement of the
// same From overriding the embedded one.
func LoadEcosystem(files ...string) (*Ecosystem, error) {
	eco, err := parseEcosystem(embeddedEcosystem, "embedded ecosystem data")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := walk.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("ecosystem file: %w", err)
		}
		add, err := parseEcosystem(b, f)
		if err != nil {
			return nil, err
		}
		eco.merge(add)
	}
	return eco, nil
}

func parseEcosystem(b []byte, what string) (*Ecosystem, error) {
	var e Ecosystem
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for i, p := range e.Projects {
		if p.Project == "" {
			return nil, fmt.Errorf("%s: project %d has no name", what, i+1)
		}
		for j, r := range p.Repos {
			e.Projects[i].Repos[j] = canonicalRepo(r)
		}
	}
	for i, r := range e.Replacements {
		if r.From == "" || r.To == "" {
			return nil, fmt.Errorf("%s: replacement %d needs from and to", what, i+1)
		}
		if !r.Prefix {
			e.Replacements[i].From, e.Replacements[i].To = canonicalRepo(r.From), canonicalRepo(r.To)
		}
	}
	if len(e.Projects) == 0 && len(e.Replacements) == 0 {
		return nil, errors.New(what + ": no projects and no replacements")
	}
	return &e, nil
}

func (e *Ecosystem) merge(add *Ecosystem) {
	for _, p := range add.Projects {
		i := e.projectIndex(p.Project)
		if i < 0 {
			e.Projects = append(e.Projects, p)
		} else {
			e.Projects[i] = p
		}
	}
	for _, r := range add.Replacements {
		found := false
		for i := range e.Replacements {
			if e.Replacements[i].From == r.From {
				e.Replacements[i], found = r, true
			}
		}
		if !found {
			e.Replacements = append(e.Replacements, r)
		}
	}
}

func (e *Ecosystem) projectIndex(name string) int {
	for i, p := range e.Projects {
		if strings.EqualFold(p.Project, name) {
			return i
		}
	}
	return -1
}

// Project returns the project named name (case-insensitive).
func (e *Ecosystem) Project(name string) (Project, bool) {
	if i := e.projectIndex(name); i >= 0 {
		return e.Projects[i], true
	}
	return Project{}, false
}

// ForRepo returns the project that publishes repo (a full repository
// name; index.docker.io is docker.io).
func (e *Ecosystem) ForRepo(repo string) (Project, bool) {
	repo = canonicalRepo(repo)
	for _, p := range e.Projects {
		for _, r := range p.Repos {
			if r == repo {
				return p, true
			}
		}
	}
	return Project{}, false
}

// ReplacementFor returns the repository that replaced repo and how: a
// repository entry of the data first, then a prefix entry, else a repository whose last part ends in
// -arm64 or -amd64 is suggested under its plain name.
func (e *Ecosystem) ReplacementFor(repo string) (to string, r Replacement, ok bool) {
	repo = canonicalRepo(repo)
	for _, r := range e.Replacements {
		if !r.Prefix && r.From == repo {
			return r.To, r, true
		}
	}
	for _, r := range e.Replacements {
		if r.Prefix && strings.HasPrefix(repo, r.From) {
			return r.To + strings.TrimPrefix(repo, r.From), r, true
		}
	}
	for _, suf := range []string{"-arm64", "-amd64"} {
		if strings.HasSuffix(repo, suf) {
			return strings.TrimSuffix(repo, suf), Replacement{Label: "the " + suf + " repository's image may be multi-arch under the plain name"}, true
		}
	}
	return "", Replacement{}, false
}

// canonicalRepo spells a repository as the data does: docker.io for
// Docker Hub, library/ for official images.
func canonicalRepo(r string) string {
	r = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(r)), "/")
	if h, rest, ok := strings.Cut(r, "/"); ok && h == "index.docker.io" {
		r = "docker.io/" + rest
	}
	if !strings.Contains(r, "/") || !strings.ContainsAny(strings.SplitN(r, "/", 2)[0], ".:") && strings.SplitN(r, "/", 2)[0] != "localhost" {
		r = "docker.io/" + r
	}
	if h, rest, _ := strings.Cut(r, "/"); h == "docker.io" && !strings.Contains(rest, "/") {
		r = "docker.io/library/" + rest
	}
	return r
}
