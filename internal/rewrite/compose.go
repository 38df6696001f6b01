package rewrite

import (
	yaml "go.yaml.in/yaml/v3"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/manifest"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// composeFile is a Compose file; its services are read by the Parser's
// ComposeReader (source/compose: extends, merge keys and default-only
// interpolation included) and edited here as yaml.Node.
type composeFile struct {
	stream   *manifest.Stream
	services []composeService
	notes    []string
}

type composeService struct {
	Target
	pin platform.Platform
}

// loadCompose recognises a Compose file: one document whose top level is a
// mapping with services and no Kubernetes kind.
func loadCompose(name string, data []byte, s *manifest.Stream, read ComposeReader) (*composeFile, bool, error) {
	if read == nil {
		return nil, false, nil
	}
	var nonEmpty []*manifest.Document
	for _, d := range s.Docs {
		if d.Root != nil {
			nonEmpty = append(nonEmpty, d)
		}
	}
	if len(nonEmpty) != 1 {
		return nil, false, nil
	}
	root := manifest.Resolve(nonEmpty[0].Root.Content[0])
	if root.Kind != yaml.MappingNode || manifest.Get(root, "services") == nil || manifest.Get(root, "kind") != nil || manifest.Get(root, "apiVersion") != nil {
		return nil, false, nil
	}
	c := &composeFile{stream: s}
	ws, err := read(name, data)
	if err != nil {
		// Problems with some services (a build context that cannot be
		// read) do not stop the others from being placed.
		c.notes = append(c.notes, err.Error())
	}
	for _, w := range ws {
		if len(w.Containers) != 1 || w.Containers[0].Kind != workload.ContainerRegular || w.Containers[0].Name != w.Name {
			continue // a build: its image is the result, not something to look up
		}
		if svc := manifest.Get(manifest.Get(root, "services"), w.Name); svc == nil || manifest.Get(svc, "build") != nil {
			continue
		}
		c.services = append(c.services, composeService{
			Target: Target{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Line: w.Location.Line, Images: []string{w.Containers[0].Image}},
			pin:    w.Containers[0].Platform,
		})
	}
	return c, true, nil
}

func (c *composeFile) targets() []Target {
	out := make([]Target, len(c.services))
	for i, s := range c.services {
		out[i] = s.Target
	}
	return out
}

func (c *composeFile) doc() *manifest.Document {
	for _, d := range c.stream.Docs {
		if d.Root != nil {
			return d
		}
	}
	return nil
}

// apply pins every service whose image is single-platform to that platform,
// so it runs (emulated, or failing clearly) the same on every host.
func (c *composeFile) apply(images map[string]lookup.Result, _ Options) ([]Change, error) {
	var out []Change
	d := c.doc()
	for _, s := range c.services {
		ch := Change{Target: s.Target}
		ref := s.Images[0]
		if skip := unknownImage(s.Images, images); skip != "" {
			ch.Skipped = skip
			out = append(out, ch)
			continue
		}
		set, finding := placement.ComposePlatform(ref, images[ref], s.pin)
		switch {
		case finding != "":
			ch.Findings = append(ch.Findings, finding)
		case !set.IsZero():
			svc := manifest.Walk(d.Root, manifest.Keys("services", s.Name), true)
			manifest.SetKey(svc, "platform", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: set.String()})
			d.Changed = true
			ch.Changed = true
			ch.Summary = append(ch.Summary, "platform: "+set.String())
		}
		out = append(out, ch)
	}
	return out, nil
}

func (c *composeFile) encode() ([]byte, error) { return c.stream.Encode() }
