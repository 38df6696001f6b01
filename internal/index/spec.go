package index

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/archwaydev/archway/internal/platform"
)

// maxSpecBytes caps a spec file.
const maxSpecBytes = 1 << 20

// Spec is an index spec file: manifest-tool's format (image, tags,
// annotations, manifests with image and platform), which archway extends
// with a platform written as "os/arch[/variant]", per-manifest
// annotations and mediaType.
//
//	image: registry.example.com/app:1.4
//	tags: ["1", latest]
//	annotations: {org.opencontainers.image.source: https://example.com/app}
//	mediaType: oci
//	manifests:
//	  - image: registry.example.com/app:1.4-arm64
//	    platform: {os: linux, architecture: arm64}
//	  - image: registry.example.com/app:1.4-amd64
//	    platform: linux/amd64
//	    annotations: {org.example.build: "42"}
type Spec struct {
	// Image is the target tag.
	Image string `yaml:"image"`
	// Tags are more tags in the target's repository.
	Tags []string `yaml:"tags"`
	// Annotations are the index's annotations (OCI only).
	Annotations map[string]string `yaml:"annotations"`
	// MediaType is oci or docker (archway's addition).
	MediaType string `yaml:"mediaType"`
	// Manifests are the sources.
	Manifests []SpecManifest `yaml:"manifests"`
}

// SpecManifest is one source in a Spec.
type SpecManifest struct {
	// Image is the source reference.
	Image string `yaml:"image"`
	// Platform is the platform the source must have (optional).
	Platform SpecPlatform `yaml:"platform"`
	// Annotations go on the source's descriptors (archway's addition).
	Annotations map[string]string `yaml:"annotations"`
}

// SpecPlatform is a platform written as "os/arch[/variant]" or as
// manifest-tool's (and OCI's) mapping.
type SpecPlatform struct {
	platform.Platform
}

// UnmarshalYAML reads a platform string or mapping.
func (p *SpecPlatform) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		pl, err := platform.Parse(n.Value)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		p.Platform = pl
		return nil
	}
	var m struct {
		OS           string   `yaml:"os"`
		Architecture string   `yaml:"architecture"`
		Variant      string   `yaml:"variant"`
		OSVersion    string   `yaml:"osversion"`
		OSVersionOCI string   `yaml:"os.version"`
		OSFeatures   []string `yaml:"osfeatures"`
		Features     []string `yaml:"features"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	if m.Architecture == "" {
		return fmt.Errorf("line %d: platform has no architecture", n.Line)
	}
	if m.OSVersion == "" {
		m.OSVersion = m.OSVersionOCI
	}
	p.Platform = platform.Normalize(platform.Platform{OS: m.OS, Architecture: m.Architecture, Variant: m.Variant, OSVersion: m.OSVersion})
	return nil
}

// ReadSpec reads a spec file (at most 1 MiB; unknown fields are errors)
// into the target, tags, annotations, media type and sources of Options.
func ReadSpec(r io.Reader) (Options, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxSpecBytes+1))
	if err != nil {
		return Options{}, err
	}
	if len(body) > maxSpecBytes {
		return Options{}, fmt.Errorf("spec is over the %d-byte cap", maxSpecBytes)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(body)))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return Options{}, errors.New("spec is empty")
		}
		return Options{}, fmt.Errorf("spec: %w", err)
	}
	if s.Image == "" {
		return Options{}, errors.New("spec: no image (the target tag)")
	}
	if len(s.Manifests) == 0 {
		return Options{}, errors.New("spec: no manifests")
	}
	o := Options{Target: s.Image, Tags: s.Tags, Annotations: s.Annotations, MediaType: s.MediaType}
	for i, m := range s.Manifests {
		if m.Image == "" {
			return Options{}, fmt.Errorf("spec: manifests[%d] has no image", i)
		}
		o.Sources = append(o.Sources, Source{Ref: m.Image, Platform: m.Platform.Platform, Annotations: m.Annotations})
	}
	return o, nil
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// Expand makes one source per platform from a template with the
// placeholders {os}, {arch} and {variant}, e.g. "repo:1.4-{arch}"; each
// source declares its platform.
func Expand(template string, platforms []platform.Platform) ([]Source, error) {
	for _, ph := range placeholder.FindAllString(template, -1) {
		if ph != "{os}" && ph != "{arch}" && ph != "{variant}" {
			return nil, fmt.Errorf("template %q: unknown placeholder %s (want {os}, {arch}, {variant})", template, ph)
		}
	}
	if !strings.Contains(template, "{arch}") {
		return nil, fmt.Errorf("template %q has no {arch}: every platform would get the same image", template)
	}
	var out []Source
	for _, p := range platforms {
		ref := strings.NewReplacer("{os}", p.OS, "{arch}", p.Architecture, "{variant}", p.Variant).Replace(template)
		out = append(out, Source{Ref: ref, Platform: p})
	}
	return out, nil
}
