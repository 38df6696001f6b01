package nodes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/archwaydev/archway/internal/manifest"
	"github.com/archwaydev/archway/internal/walk"
)

// MaxInputBytes bounds one input file.
const MaxInputBytes = 16 << 20

// ErrUnknownInput is wrapped by the error for an input of no known kind.
var ErrUnknownInput = errors.New("not an eksctl ClusterConfig, Karpenter NodePool or EC2NodeClass, Node list, or AWS CLI describe-tags / describe-auto-scaling-groups / describe-images JSON")

// Inputs gathers node-group inputs of any kind and joins them into groups:
// a NodePool finds its EC2NodeClass in any input, and an ASG read from AWS
// JSON is joined to the eksctl node group it belongs to (by its
// eks:nodegroup-name or alpha.eksctl.io/nodegroup-name tag) and to the
// same ASG in other AWS JSON. The zero value is ready to use.
type Inputs struct {
	groups    []Group
	asgs      []Group
	karpenter karpenterDocs
	// nodes are the Node objects read from nodeFiles, grouped in Groups.
	nodes     []corev1.Node
	nodeFiles []string
}

// ReadPath adds the input file at path (see Add), or every YAML and JSON
// file under the directory at path whose kind is known (others are
// skipped; a directory with none is an error).
func (in *Inputs) ReadPath(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return in.ReadFile(path)
	}
	found := false
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && p != path && strings.HasPrefix(d.Name(), "."):
			return filepath.SkipDir
		case d.IsDir() || !slices.Contains([]string{".yaml", ".yml", ".json"}, strings.ToLower(filepath.Ext(p))):
			return nil
		}
		if err := in.ReadFile(p); err != nil {
			if errors.Is(err, ErrUnknownInput) {
				return nil
			}
			return err
		}
		found = true
		return nil
	})
	if err == nil && !found {
		err = fmt.Errorf("%s: no node-group input in the directory (%w)", path, ErrUnknownInput)
	}
	return err
}

// ReadFile adds the input file at path (see Add).
func (in *Inputs) ReadFile(path string) error {
	data, err := walk.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data) > MaxInputBytes {
		return fmt.Errorf("%s: larger than %d MiB", path, MaxInputBytes>>20)
	}
	return in.Add(path, data)
}

// Add adds one input, its kind told from its content: eksctl ClusterConfig,
// Karpenter NodePool / EC2NodeClass and Node / NodeList documents (YAML or
// JSON, many per file), or AWS CLI JSON from `aws autoscaling
// describe-tags` or `describe-auto-scaling-groups`, or `aws ec2
// describe-images` (the architectures of the AMIs an EC2NodeClass
// selects). src names the input in messages.
func (in *Inputs) Add(src string, data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &top); err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		switch {
		case top["Tags"] != nil:
			gs, err := parseDescribeTags(src, trimmed)
			in.asgs = append(in.asgs, gs...)
			return err
		case top["AutoScalingGroups"] != nil:
			gs, err := parseDescribeASGs(src, trimmed)
			in.asgs = append(in.asgs, gs...)
			return err
		case top["Images"] != nil:
			return in.karpenter.addImages(src, trimmed)
		}
	}
	return in.addDocuments(src, data)
}

// addDocuments reads a YAML (or JSON) stream of Kubernetes-style objects
// through the manifest layer (documents, List items, duplicate-key and
// alias checks).
func (in *Inputs) addDocuments(src string, data []byte) error {
	stream := manifest.Parse(src, data)
	if err := stream.Err(); err != nil {
		return err
	}
	found := false
	for _, o := range stream.Objects() {
		if o.Err != nil {
			return o.Err
		}
		doc, err := yaml.Marshal(o.Node)
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", src, o.Line, err)
		}
		group, _, _ := strings.Cut(o.APIVersion, "/")
		ok, err := in.addDocument(src, o.Line, group, o.Kind, doc)
		if err != nil {
			return err
		}
		found = found || ok
	}
	if !found {
		return fmt.Errorf("%s: %w", src, ErrUnknownInput)
	}
	return nil
}

// addDocument adds one object, found at file:line; ok is false for kinds
// archway does not read.
func (in *Inputs) addDocument(file string, line int, apiGroup, kind string, doc []byte) (bool, error) {
	src := fmt.Sprintf("%s:%d", file, line)
	switch {
	case apiGroup == "eksctl.io" && kind == "ClusterConfig":
		gs, err := parseEksctl(src, doc)
		in.groups = append(in.groups, gs...)
		return true, err
	case apiGroup == "karpenter.sh" && kind == "NodePool", apiGroup == "karpenter.k8s.aws" && kind == "EC2NodeClass":
		return true, in.karpenter.add(src, kind, doc)
	case kind == "Node":
		var n corev1.Node
		if err := sigsyaml.Unmarshal(doc, &n); err != nil {
			return true, fmt.Errorf("%s: Node: %w", src, err)
		}
		in.nodes = append(in.nodes, n)
		if !slices.Contains(in.nodeFiles, file) {
			in.nodeFiles = append(in.nodeFiles, file)
		}
		return true, nil
	}
	return false, nil
}

// AddGroups adds groups read elsewhere (a live cluster's Nodes).
func (in *Inputs) AddGroups(gs ...Group) { in.groups = append(in.groups, gs...) }

// Groups returns every group read, joined as the type doc says, in input order.
func (in *Inputs) Groups() []Group {
	out := slices.Clone(in.groups)
	if len(in.nodes) > 0 {
		out = append(out, FromNodes(strings.Join(in.nodeFiles, ", "), in.nodes)...)
	}
	out = append(out, in.karpenter.groups()...)
	for _, a := range joinASGs(in.asgs) {
		if i := ownerOf(out, a); i >= 0 {
			out[i] = withASG(out[i], a)
			continue
		}
		out = append(out, a)
	}
	return out
}

// joinASGs merges the ASGs read twice (describe-tags and
// describe-auto-scaling-groups) into one group each.
func joinASGs(asgs []Group) []Group {
	var out []Group
	index := map[string]int{}
	for _, a := range asgs {
		i, ok := index[a.ASGName]
		if !ok {
			index[a.ASGName] = len(out)
			out = append(out, a)
			continue
		}
		have := &out[i]
		for k, v := range a.Tags {
			have.Tags[k] = v
		}
		have.Managed = have.Managed || a.Managed
		if len(have.InstanceTypes) == 0 {
			have.InstanceTypes, have.Archs, have.ArchEvidence, have.UnknownTypes = a.InstanceTypes, a.Archs, a.ArchEvidence, a.UnknownTypes
		}
		have.Source += ", " + a.Source
	}
	return out
}

// ownerOf returns the index of the eksctl group an ASG belongs to, or -1.
func ownerOf(groups []Group, asg Group) int {
	for i, g := range groups {
		switch {
		case g.Kind == KindEksctlManaged && asg.Tags[eksNodegroupTag] == g.Name,
			g.Kind == KindEksctlNodeGroup && asg.Tags[eksctlNodegroupTag] == g.Name:
			return i
		}
	}
	return -1
}

// withASG gives an eksctl group the tags its ASG really has.
func withASG(g, asg Group) Group {
	g.Tags, g.TagsPredicted, g.ASGName = asg.Tags, false, asg.ASGName
	g.Source += ", " + asg.Source
	if len(g.InstanceTypes) == 0 && len(asg.InstanceTypes) > 0 {
		g.setTypes(asg.InstanceTypes, "ASG "+asg.ASGName)
	}
	return g
}
