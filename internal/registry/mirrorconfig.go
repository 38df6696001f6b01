package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/archwaydev/archway/internal/walk"
)

// mirror is a registry that serves another registry's repositories under
// the same paths (a Docker registry mirror, a pull-through cache).
type mirror struct {
	host     string // host[:port]
	insecure bool   // plain HTTP
	resolve  bool   // may be asked for tags, not only digests
	source   string // where it was configured, for messages
}

// dockerHubServer is Docker Hub's registry host as containerd's hosts.toml
// names it; ggcr calls Docker Hub index.docker.io.
const dockerHubServer = "registry-1.docker.io"

// canonicalRegistry is ggcr's name of a registry: "docker.io" is
// index.docker.io; anything unparsable is returned as given.
func canonicalRegistry(host string) string {
	if host == dockerHubServer {
		return name.DefaultRegistry
	}
	r, err := name.NewRegistry(host)
	if err != nil {
		return host
	}
	return r.RegistryStr()
}

// parseMirror reads a mirror as "host[:port]" or "http(s)://host[:port]"
// (a trailing "/v2" or "/" is allowed; other paths are not: archway asks a
// mirror for the same repository path as the origin).
func parseMirror(s, source string) (mirror, error) {
	raw := strings.TrimSpace(s)
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return mirror{}, fmt.Errorf("mirror %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return mirror{}, fmt.Errorf("mirror %q: scheme %q is not http or https", s, u.Scheme)
	}
	if u.Host == "" {
		return mirror{}, fmt.Errorf("mirror %q: no host", s)
	}
	if p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/v2"); p != "" {
		return mirror{}, fmt.Errorf("mirror %q: a path prefix (%s) is not supported; archway asks a mirror for the origin's repository paths", s, p)
	}
	if _, err := name.NewRegistry(u.Host); err != nil {
		return mirror{}, fmt.Errorf("mirror %q: %w", s, err)
	}
	return mirror{host: u.Host, insecure: u.Scheme == "http", resolve: true, source: source}, nil
}

// WithMirror asks mirror (host[:port], or an http:// or https:// URL with
// no path) for origin's repositories ("docker.io" names Docker Hub) before
// origin itself; repeatable, tried in order. Tags are resolved at the
// origin with a HEAD, which Docker Hub does not meter, and manifests are
// fetched from the mirror by digest, so what it returns is verified; a
// mirror that fails is noted once and the origin is asked instead.
func WithMirror(origin, mirrorURL string) Option {
	return func(o *options) error {
		if _, err := name.NewRegistry(origin); err != nil {
			return fmt.Errorf("mirror origin %q: %w", origin, err)
		}
		m, err := parseMirror(mirrorURL, "--registry-mirror")
		if err != nil {
			return err
		}
		o.addMirror(canonicalRegistry(origin), m)
		return nil
	}
}

// WithDockerDaemonConfig reads Docker's daemon.json at path (usually
// /etc/docker/daemon.json) when it exists: its "registry-mirrors" become
// mirrors of Docker Hub, as they are for the Docker daemon. A file that
// does not exist is skipped; one that does not parse is an error.
func WithDockerDaemonConfig(path string) Option {
	return func(o *options) error {
		b, err := walk.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			o.notes = append(o.notes, fmt.Sprintf("%s is unreadable (%v); its registry-mirrors are not used", path, err))
			return nil
		}
		var cfg struct {
			Mirrors []string `json:"registry-mirrors"`
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return fmt.Errorf("docker daemon config %s: %w", path, err)
		}
		for _, s := range cfg.Mirrors {
			m, err := parseMirror(s, path)
			if err != nil {
				o.notes = append(o.notes, fmt.Sprintf("%s: %v; ignored", path, err))
				continue
			}
			o.addMirror(name.DefaultRegistry, m)
		}
		return nil
	}
}

// hostsFile is containerd's certs.d/<host>/hosts.toml: server is the
// upstream (the origin, unless it names another host), and each [host."URL"]
// table a mirror tried before it, in file order.
type hostsFile struct {
	Server string               `toml:"server"`
	Host   map[string]hostEntry `toml:"host"`
}

type hostEntry struct {
	Capabilities []string `toml:"capabilities"`
	OverridePath bool     `toml:"override_path"`
}

// WithContainerdHostsDir reads containerd's registry host configuration
// under dir (usually /etc/containerd/certs.d) when it exists: for each
// <registry>/hosts.toml, the [host."URL"] entries with the pull capability
// (and a server other than the registry itself) become its mirrors, in
// file order; resolve lets a mirror be asked for tags. A directory that
// does not exist is skipped; a hosts.toml that does not parse is an error.
func WithContainerdHostsDir(dir string) Option {
	return func(o *options) error {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			o.notes = append(o.notes, fmt.Sprintf("%s is unreadable (%v); its hosts.toml files are not used", dir, err))
			return nil
		}
		for _, e := range entries {
			if !e.IsDir() || e.Name() == "_default" {
				continue
			}
			path := filepath.Join(dir, e.Name(), "hosts.toml")
			if err := o.readHostsFile(e.Name(), path); err != nil {
				return err
			}
		}
		return nil
	}
}

func (o *options) readHostsFile(origin, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var hf hostsFile
	md, err := toml.DecodeFile(path, &hf)
	if err != nil {
		return fmt.Errorf("containerd hosts file %s: %w", path, err)
	}
	if _, err := name.NewRegistry(origin); err != nil {
		o.notes = append(o.notes, fmt.Sprintf("%s: directory %q is not a registry host; ignored", path, origin))
		return nil
	}
	origin = canonicalRegistry(origin)
	var order []string // [host."URL"] tables in file order
	for _, k := range md.Keys() {
		if len(k) == 2 && k[0] == "host" && !slices.Contains(order, k[1]) {
			order = append(order, k[1])
		}
	}
	add := func(raw string, h hostEntry) {
		caps := h.Capabilities
		if caps == nil {
			caps = []string{"pull", "resolve", "push"} // containerd's default
		}
		if !slices.Contains(caps, "pull") {
			return
		}
		if h.OverridePath {
			o.notes = append(o.notes, fmt.Sprintf("%s: host %s has override_path; archway asks mirrors for the origin's paths, so it is ignored", path, raw))
			return
		}
		m, err := parseMirror(raw, path)
		if err != nil {
			o.notes = append(o.notes, fmt.Sprintf("%s: %v; ignored", path, err))
			return
		}
		if canonicalRegistry(m.host) == origin {
			return // the origin itself
		}
		m.resolve = slices.Contains(caps, "resolve")
		o.addMirror(origin, m)
	}
	for _, raw := range order {
		add(raw, hf.Host[raw])
	}
	if hf.Server != "" {
		add(hf.Server, hostEntry{})
	}
	return nil
}

func (o *options) addMirror(origin string, m mirror) {
	if o.mirrors == nil {
		o.mirrors = map[string][]mirror{}
	}
	for _, have := range o.mirrors[origin] {
		if have.host == m.host {
			return
		}
	}
	o.mirrors[origin] = append(o.mirrors[origin], m)
}
