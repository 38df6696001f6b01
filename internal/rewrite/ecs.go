package rewrite

import (
	"fmt"
	"slices"

	yaml "go.yaml.in/yaml/v3"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/manifest"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/platform"
)

// ecsFile is a file of ECS task definitions.
type ecsFile struct {
	stream *manifest.Stream
	root   *yaml.Node // the document node
	defs   []ecsDef
}

type ecsDef struct {
	Target
	steps []manifest.Step // from the document node to the task definition
}

// isECS reports whether a JSON document holds ECS task definitions: an
// object with containerDefinitions, describe-task-definition output
// ({"taskDefinition": {...}}), an array of those, or a bare array of
// container definitions.
func isECS(doc *yaml.Node) bool {
	root := doc.Content[0]
	if taskDefSteps(root) != nil {
		return true
	}
	if root.Kind == yaml.SequenceNode && len(root.Content) > 0 {
		first := manifest.Resolve(root.Content[0])
		return taskDefSteps(first) != nil || (manifest.Get(first, "image") != nil && manifest.Get(first, "kind") == nil)
	}
	return false
}

// taskDefSteps returns the path from n to its task definition, or nil.
func taskDefSteps(n *yaml.Node) []manifest.Step {
	if manifest.Get(n, "containerDefinitions") != nil {
		return []manifest.Step{}
	}
	if td := manifest.Get(n, "taskDefinition"); td != nil && manifest.Get(td, "containerDefinitions") != nil {
		return manifest.Keys("taskDefinition")
	}
	return nil
}

func (e *ecsFile) targets() []Target {
	if e.defs == nil {
		e.find()
	}
	out := make([]Target, len(e.defs))
	for i, d := range e.defs {
		out[i] = d.Target
	}
	return out
}

func (e *ecsFile) find() {
	e.defs = []ecsDef{}
	root := e.root.Content[0]
	add := func(at []manifest.Step) {
		td := manifest.Walk(e.root, at, false)
		family := manifest.Str(td, "family")
		if rev := manifest.Str(td, "revision"); rev != "" {
			family += ":" + rev
		}
		t := Target{Kind: "TaskDefinition", Name: family, Line: td.Line}
		if cds := manifest.Get(td, "containerDefinitions"); cds != nil {
			for _, c := range cds.Content {
				if img := manifest.Str(manifest.Resolve(c), "image"); img != "" && !slices.Contains(t.Images, img) {
					t.Images = append(t.Images, img)
				}
			}
		}
		e.defs = append(e.defs, ecsDef{Target: t, steps: at})
	}
	if s := taskDefSteps(root); s != nil {
		add(s)
		return
	}
	if root.Kind != yaml.SequenceNode {
		return
	}
	for i, item := range root.Content {
		if s := taskDefSteps(manifest.Resolve(item)); s != nil {
			add(append([]manifest.Step{{Index: i}}, s...))
		}
	}
}

func (e *ecsFile) apply(images map[string]lookup.Result, opts Options) ([]Change, error) {
	e.targets()
	target := opts.Platform
	if target.IsZero() {
		target = platform.LinuxARM64
	}
	if _, _, err := placement.ECSRuntime(target, nil, nil, ""); err != nil {
		return nil, err
	}
	var out []Change
	if len(e.defs) == 0 {
		out = append(out, Change{
			Target:   Target{Kind: "ContainerDefinitions", Line: e.root.Content[0].Line},
			Findings: []string{"bare container definitions: set runtime_platform (Terraform) or RuntimePlatform (CloudFormation) where the task definition is declared"},
		})
	}
	for _, d := range e.defs {
		c := Change{Target: d.Target}
		out = append(out, c)
		ch := &out[len(out)-1]
		if s := unknownImage(d.Images, images); s != "" {
			ch.Skipped = s
			continue
		}
		td := manifest.Walk(e.root, d.steps, false)
		rp := manifest.Get(td, "runtimePlatform")
		cur, osFamily := manifest.Str(rp, "cpuArchitecture"), manifest.Str(rp, "operatingSystemFamily")
		want, finding, err := placement.ECSRuntime(target, d.Images, images, osFamily)
		if err != nil {
			return nil, err
		}
		if finding != "" {
			ch.Findings = append(ch.Findings, finding)
			continue
		}
		if cur == want && osFamily == "LINUX" {
			continue
		}
		td = manifest.Walk(e.root, d.steps, true)
		rpNode := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if i := manifest.KeyIndex(td, "runtimePlatform"); i >= 0 {
			rpNode = manifest.Materialize(&td.Content[i+1])
			if rpNode.Kind != yaml.MappingNode {
				rpNode = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				td.Content[i+1] = rpNode
			}
		} else {
			td.Content = append(td.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "runtimePlatform"}, rpNode)
		}
		manifest.SetKey(rpNode, "cpuArchitecture", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: want})
		manifest.SetKey(rpNode, "operatingSystemFamily", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "LINUX"})
		ch.Changed = true
		if cur == "" {
			ch.Summary = append(ch.Summary, "runtimePlatform.cpuArchitecture "+want)
		} else {
			ch.Summary = append(ch.Summary, fmt.Sprintf("runtimePlatform.cpuArchitecture %s → %s", cur, want))
		}
	}
	return out, nil
}

func (e *ecsFile) encode() ([]byte, error) { return e.stream.Encode() }
