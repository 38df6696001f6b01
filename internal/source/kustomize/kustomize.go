package kustomize

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/archwaydev/archway/internal/manifest"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/workload"
)

// FileNames are the names kustomize accepts for a kustomization file, in
// the order it looks for them.
var FileNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// DisplayName is the file name given to the build output of dir in
// workload and container locations.
func DisplayName(dir string) string { return "kustomize build " + dir }

// originAnnotation is where kustomize records the file each resource of
// the build came from (with buildMetadata: [originAnnotations]).
const originAnnotation = "config.kubernetes.io/origin"

// Workloads reads the workloads of the build output of the kustomization
// in dir (built with origins), with Source set to
// workload.SourceKustomize, each located in the resource file that holds it
// and each image at its line there, or at the images: entry of a
// kustomization that set it (see the package doc). An object of the
// output that is not a valid workload is a *kube.Error in the joined
// error, and the others are still returned.
func Workloads(dir string, output []byte) ([]workload.Workload, error) {
	name := DisplayName(dir)
	ws, err := kube.Parse(name, output)
	origins := originsOf(name, output)
	entries := imageEntries(dir)
	files := resourceFiles{}
	for i := range ws {
		ws[i].Source = workload.SourceKustomize
		locate(&ws[i], dir, origins[objectKey(ws[i].Kind, ws[i].Namespace, ws[i].Name)], entries, files)
	}
	return ws, err
}

// BuildOptions say how Build builds.
type BuildOptions struct {
	// Origins asks kustomize for origin annotations (what Workloads
	// locates by).
	Origins bool `json:"origins,omitempty"`
	// AllowRemote lets kustomize fetch remote resources, bases and
	// components with its own HTTP client and git, which nothing here
	// bounds: set it only in a bounded process (package render). Unset, a
	// kustomization naming one fails with ErrRemote, nothing fetched.
	AllowRemote bool `json:"allowRemote,omitempty"`
}

// Built is the result of a build: the output as a YAML stream, and the
// deprecation warnings kustomize gave on the kustomization files (see the
// package doc).
type Built struct {
	YAML     []byte   `json:"yaml"`
	Warnings []string `json:"warnings,omitempty"`
}

// Build runs kustomize on dir in this process. The warnings are returned
// even when the build fails.
func Build(dir string, o BuildOptions) (Built, error) {
	fs := &fixingFS{FileSystem: filesys.MakeFsOnDisk(), origins: o.Origins}
	opts := krusty.MakeDefaultOptions()
	if hasSortOptions(dir) {
		// The file's order wins over any option; saying none would make
		// kustomize log a warning to the process's stderr.
		opts.Reorder = krusty.ReorderOptionUnspecified
	}
	if !o.AllowRemote {
		if err := refuseRemote(fs.FileSystem, dir, map[string]bool{}); err != nil {
			return Built{}, relative(err, dir)
		}
	}
	k := krusty.MakeKustomizer(opts)
	m, err := k.Run(fs, dir)
	for i, w := range fs.warnings {
		fs.warnings[i] = relativePaths(w, dir)
	}
	b := Built{Warnings: fs.warnings}
	if err != nil {
		return b, relative(fmt.Errorf("kustomize build %s: %w", dir, err), dir)
	}
	if b.YAML, err = m.AsYaml(); err != nil {
		return b, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return b, nil
}

// fixingFS is the disk as kustomize reads it, except that kustomization
// files are handed over fixed as `kustomize edit fix` would fix them, with
// kustomize's own fix functions (so that kustomize, which prints its
// deprecation warnings straight to the process's stderr, has none to print:
// they are collected instead), and, with origins, asking for origin
// annotations. Nothing on disk changes. Only `vars`, which has no
// mechanical fix, is left for kustomize to warn about itself.
type fixingFS struct {
	filesys.FileSystem
	origins  bool
	warnings []string
}

// ReadFile reads path, fixing a kustomization file.
func (f *fixingFS) ReadFile(path string) ([]byte, error) {
	data, err := f.FileSystem.ReadFile(path)
	if err != nil || !slices.Contains(FileNames, filepath.Base(path)) {
		return data, err
	}
	var k types.Kustomization
	if k.Unmarshal(data) != nil {
		return data, nil // kustomize reports it
	}
	if ws := k.CheckDeprecatedFields(); ws != nil {
		for _, w := range *ws {
			f.warnings = append(f.warnings, filepath.Clean(path)+": "+strings.TrimPrefix(w, "# Warning: "))
		}
	}
	k.FixKustomization()
	if k.FixKustomizationPreMarshalling(dirFS{f.FileSystem, filepath.Dir(path)}) != nil {
		return data, nil // kustomize reports the conflict
	}
	if f.origins && !slices.Contains(k.BuildMetadata, types.OriginAnnotations) {
		k.BuildMetadata = append(k.BuildMetadata, types.OriginAnnotations)
	}
	fixed, err := yaml.Marshal(k)
	if err != nil {
		return data, nil
	}
	return fixed, nil
}

// ErrRemote is wrapped by the error for a kustomization that names a remote
// resource, base or component (an http(s) URL or a git repository).
var ErrRemote = errors.New("remote resources are not read")

// refuseRemote fails for the first entry of the kustomization in dir, or
// of a local base or component it names (recursively), that is not on disk
// and names a remote resource, which kustomize would fetch with its own
// unbounded HTTP client or git: unless remote resources are allowed, a
// scan reads the files it was given, nothing from the network.
func refuseRemote(fs filesys.FileSystem, dir string, seen map[string]bool) error {
	if seen[dir] {
		return nil
	}
	seen[dir] = true
	for _, n := range FileNames {
		path := filepath.Join(dir, n)
		data, err := fs.ReadFile(path)
		if err != nil {
			continue
		}
		var k types.Kustomization
		if k.Unmarshal(data) != nil {
			return nil // kustomize reports it
		}
		k.FixKustomization()
		// Every list whose entries kustomize may load as a directory, and
		// so clone from git; remote files anywhere else are refused by
		// package render's child, which has no network then.
		entries := slices.Concat(k.Resources, k.Components, k.Generators, k.Transformers, k.Validators)
		for _, e := range entries {
			local := filepath.Join(dir, e)
			switch {
			case fs.IsDir(local):
				if err := refuseRemote(fs, local, seen); err != nil {
					return err
				}
			case fs.Exists(local) || !looksRemote(e):
			default:
				return fmt.Errorf("%s: %q: %w (archway reads only local files unless --allow-remote is given; or vendor the resource)", path, e, ErrRemote)
			}
		}
		return nil
	}
	return nil
}

// looksRemote reports whether a kustomization entry is one kustomize's
// loader would fetch: an URL with a scheme, or a git repository spec as
// kustomize's parser takes it (a user@ prefix, a GitHub host, a ?ref=).
func looksRemote(e string) bool {
	lower := strings.TrimPrefix(strings.ToLower(e), "git::")
	if strings.Contains(lower, "://") || gitUser.MatchString(lower) || strings.Contains(lower, "?ref=") {
		return true
	}
	for _, host := range []string{"github.com/", "github.com:", "gitlab.com/", "bitbucket.org/", "dev.azure.com/"} {
		if strings.HasPrefix(lower, host) {
			return true
		}
	}
	return false
}

// gitUser is the user@ prefix that makes kustomize read an entry as a git
// repository (git@host:org/repo).
var gitUser = regexp.MustCompile(`^[a-z][a-z0-9-]*@`)

// hasSortOptions reports whether the kustomization in dir sets sortOptions.
func hasSortOptions(dir string) bool {
	_, data := kustomizationFile(dir)
	var k types.Kustomization
	return data != nil && k.Unmarshal(data) == nil && k.SortOptions != nil
}

// dirFS resolves relative paths against dir: kustomize's fix reads the
// patch files a kustomization names relative to the working directory.
type dirFS struct {
	filesys.FileSystem
	dir string
}

// ReadFile reads path, relative to the kustomization's directory.
func (d dirFS) ReadFile(path string) ([]byte, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(d.dir, path)
	}
	return d.FileSystem.ReadFile(path)
}

// IsComponent reports whether dir holds a kustomize Component (kind:
// Component), which is built only by the kustomizations that use it.
func IsComponent(dir string) bool {
	for _, n := range FileNames {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		var tm struct {
			Kind string `json:"kind"`
		}
		return yaml.Unmarshal(data, &tm) == nil && tm.Kind == types.ComponentKind
	}
	return false
}

// relative rewrites the absolute paths kustomize puts in its errors back to
// paths relative to the working directory, when dir was given relative.
func relative(err error, dir string) error {
	msg := relativePaths(err.Error(), dir)
	if msg == err.Error() {
		return err
	}
	return &relativeError{msg: msg, err: err}
}

// relativePaths makes the paths under the working directory in s relative
// to it, when dir was given relative.
func relativePaths(s, dir string) string {
	if filepath.IsAbs(dir) {
		return s
	}
	wd, err := os.Getwd()
	if err != nil {
		return s
	}
	s = strings.ReplaceAll(s, wd+string(filepath.Separator), "")
	return strings.ReplaceAll(s, wd, ".")
}

// relativeError is an error with the machine's paths made relative.
type relativeError struct {
	msg string
	err error
}

func (e *relativeError) Error() string { return e.msg }
func (e *relativeError) Unwrap() error { return e.err }

// objectKey identifies an object of a build output: kustomize keeps them
// unique.
func objectKey(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

// origin is where kustomize says an object came from.
type origin struct {
	Path         string `json:"path"`
	Repo         string `json:"repo"`
	ConfiguredIn string `json:"configuredIn"`
}

// originsOf reads the origin annotation of every object of a build output.
func originsOf(name string, data []byte) map[string]origin {
	out := map[string]origin{}
	for _, o := range manifest.Parse(name, data).Objects() {
		anns := manifest.Get(manifest.Get(o.Node, "metadata"), "annotations")
		v := manifest.Str(anns, originAnnotation)
		var or origin
		if v == "" || yaml.Unmarshal([]byte(v), &or) != nil {
			continue
		}
		out[objectKey(o.Kind, o.Namespace, o.Name)] = or
	}
	return out
}
