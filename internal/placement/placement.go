package placement

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// Style says how a required architecture is written.
type Style int

// The placement styles.
const (
	// StyleAffinity writes required node affinity (the default).
	StyleAffinity Style = iota
	// StyleNodeSelector writes nodeSelector when exactly one architecture
	// is allowed, and required node affinity otherwise.
	StyleNodeSelector
)

// String returns the flag spelling of s.
func (s Style) String() string {
	if s == StyleNodeSelector {
		return "node-selector"
	}
	return "affinity"
}

// ParseStyle parses "affinity" or "node-selector".
func ParseStyle(s string) (Style, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "affinity":
		return StyleAffinity, nil
	case "node-selector", "nodeselector":
		return StyleNodeSelector, nil
	}
	return 0, fmt.Errorf("style %q: want affinity or node-selector", s)
}

// DefaultClusterArchs are the architectures assumed when Options.ClusterArchs
// is empty.
var DefaultClusterArchs = []string{"amd64", "arm64"}

// Options configure placement. The zero value is usable: cluster archs
// amd64+arm64, no taint, no preference, affinity style.
type Options struct {
	// ClusterArchs are the architectures the cluster's nodes have;
	// default DefaultClusterArchs.
	ClusterArchs []string
	// ArmTaint is the taint on arm64 nodes, e.g. arm=true:NoSchedule; nil
	// means none.
	ArmTaint *corev1.Taint
	// Prefer is the preferred-affinity weight (1-100) per architecture,
	// e.g. {"arm64": 80}; nil means none.
	Prefer map[string]int32
	// Style is StyleAffinity (default) or StyleNodeSelector.
	Style Style
}

// Outcome is the result of placing one pod spec.
type Outcome struct {
	// Spec is the placed spec; a deep copy, the input is never modified.
	Spec corev1.PodSpec
	// Changed reports whether Spec differs from the input.
	Changed bool
	// Allowed is S, the architectures every container supports (sorted);
	// nil when unknown.
	Allowed []string
	// Findings are problems left for a person: no architecture runs every
	// container, a conflict with an existing pin.
	Findings []string
	// Blocked is true when no placement is right: no (cluster)
	// architecture runs every container, or an existing constraint
	// conflicts with the images. The spec is then left as it was: a pod
	// of it cannot run on the nodes it may land on, and place --check
	// fails on it.
	Blocked bool
	// Skipped is non-empty when the spec was left untouched because an
	// image is unknown; it names the image and the cause.
	Skipped string
	// Summary holds human lines of what was done, e.g.
	// "required kubernetes.io/arch In [amd64]".
	Summary []string
}

// Place computes the placement of one pod spec. images maps every image
// reference used by the spec's containers (init and ephemeral included) to
// its support. Pure: no I/O.
func Place(spec *corev1.PodSpec, images map[string]lookup.Result, opts Options) Outcome {
	var out Outcome
	if spec == nil {
		return out
	}
	out.Spec = *spec.DeepCopy()
	p := placer{spec: &out.Spec, out: &out, opts: opts}
	p.place(images)
	out.Changed = !reflect.DeepEqual(spec, &out.Spec)
	return out
}

type placer struct {
	spec *corev1.PodSpec
	out  *Outcome
	opts Options
}

func (p *placer) place(images map[string]lookup.Result) {
	allowed, ok := p.allowed(images)
	if !ok {
		return
	}
	p.out.Allowed = allowed
	if len(allowed) == 0 {
		p.block("no architecture runs every container")
		return
	}
	cluster := normArchs(p.opts.ClusterArchs)
	if len(cluster) == 0 {
		cluster = slices.Clone(DefaultClusterArchs)
	}

	pin := workload.PodArchitectures(p.spec)
	switch {
	case pin != nil && !subset(pin, allowed):
		p.block(fmt.Sprintf("existing %s constraint allows %v, but only %v runs every container: left as is", workload.ArchLabel, pin, allowed))
		return
	case pin != nil && len(pin) == 0:
		p.block(fmt.Sprintf("existing %s constraints allow no architecture", workload.ArchLabel))
		return
	}
	if sel := requiredSelector(p.spec); sel != nil && len(sel.NodeSelectorTerms) == 0 {
		p.block("required node affinity has no node-selector terms and matches no node: left as is")
		return
	}
	if bad := p.conflictingTerm(allowed); bad != nil {
		p.block(fmt.Sprintf("existing node-selector term allows %s %v, but only %v runs every container: left as is", workload.ArchLabel, bad, allowed))
		return
	}

	// final is where the pod may run once placed.
	var final []string
	switch {
	case pin != nil:
		final = intersect(pin, cluster)
	case subset(cluster, allowed):
		final = cluster
	default:
		final = intersect(allowed, cluster)
	}
	if len(final) == 0 {
		p.block(fmt.Sprintf("no cluster architecture %v runs every container (they support %v): left as is", cluster, allowed))
		return
	}
	if pin == nil && !subset(cluster, allowed) {
		p.require(allowed)
	}
	if len(final) > 1 {
		p.prefer(final)
	}
	if slices.Contains(final, "arm64") {
		p.tolerate()
	}
}

// allowed computes S; ok is false (and Skipped set) when an image is unknown.
func (p *placer) allowed(images map[string]lookup.Result) (archs []string, ok bool) {
	var s []string
	first := true
	seen := false
	for _, c := range containers(p.spec) {
		seen = true
		if c.image == "" {
			p.out.Skipped = fmt.Sprintf("%s container %q has no image", c.kind, c.name)
			return nil, false
		}
		sup, found := images[c.image]
		switch {
		case !found:
			p.out.Skipped = fmt.Sprintf("image %s: unknown: no lookup result", c.image)
			return nil, false
		case sup.Err != nil:
			p.out.Skipped = fmt.Sprintf("image %s: unknown: %v", c.image, sup.Err)
			return nil, false
		}
		a := normArchs(sup.Platforms().Architectures())
		if first {
			s, first = a, false
		} else {
			s = intersect(s, a)
		}
	}
	if !seen {
		return nil, false
	}
	if s == nil {
		s = []string{}
	}
	slices.Sort(s)
	return s, true
}

// conflictingTerm returns the architectures of the first required term that
// constrains the architecture to something S does not cover.
func (p *placer) conflictingTerm(allowed []string) []string {
	for _, term := range requiredTerms(p.spec) {
		if archs := termArchs(term); archs != nil && !subset(archs, allowed) {
			return archs
		}
	}
	return nil
}

// require ANDs kubernetes.io/arch In allowed into every required term.
func (p *placer) require(allowed []string) {
	if p.opts.Style == StyleNodeSelector && len(allowed) == 1 {
		if p.spec.NodeSelector == nil {
			p.spec.NodeSelector = map[string]string{}
		}
		p.spec.NodeSelector[workload.ArchLabel] = allowed[0]
		p.summary(fmt.Sprintf("nodeSelector %s=%s", workload.ArchLabel, allowed[0]))
		return
	}
	req := corev1.NodeSelectorRequirement{Key: workload.ArchLabel, Operator: corev1.NodeSelectorOpIn, Values: slices.Clone(allowed)}
	na := p.nodeAffinity()
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
	}
	sel := na.RequiredDuringSchedulingIgnoredDuringExecution
	if len(sel.NodeSelectorTerms) == 0 {
		sel.NodeSelectorTerms = []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{req}}}
		p.summary(fmt.Sprintf("required %s In %v", workload.ArchLabel, allowed))
		return
	}
	added := 0
	for i := range sel.NodeSelectorTerms {
		term := &sel.NodeSelectorTerms[i]
		// An empty term matches no node; adding to it would loosen it.
		if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
			continue
		}
		if archs := termArchs(*term); archs != nil {
			continue // already constrained to a subset of S (conflicts were ruled out)
		}
		term.MatchExpressions = append(term.MatchExpressions, *req.DeepCopy())
		added++
	}
	if added > 0 {
		p.summary(fmt.Sprintf("required %s In %v (AND-ed into %d of %d node-selector terms)", workload.ArchLabel, allowed, added, len(sel.NodeSelectorTerms)))
	}
}

// prefer adds the preferred weights for the architectures in final.
func (p *placer) prefer(final []string) {
	for _, arch := range slices.Sorted(maps.Keys(p.opts.Prefer)) {
		w := p.opts.Prefer[arch]
		if w < 1 || w > 100 || !slices.Contains(final, arch) {
			continue
		}
		na := p.spec.Affinity
		if na != nil && na.NodeAffinity != nil && slices.ContainsFunc(na.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution, func(t corev1.PreferredSchedulingTerm) bool {
			archs := termArchs(t.Preference)
			return len(archs) == 1 && archs[0] == arch
		}) {
			continue
		}
		n := p.nodeAffinity()
		n.PreferredDuringSchedulingIgnoredDuringExecution = append(n.PreferredDuringSchedulingIgnoredDuringExecution, corev1.PreferredSchedulingTerm{
			Weight: w,
			Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: workload.ArchLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{arch}},
			}},
		})
		p.summary(fmt.Sprintf("preferred %s In [%s] weight %d", workload.ArchLabel, arch, w))
	}
}

// tolerate adds the toleration for the arm taint unless one already covers it.
func (p *placer) tolerate() {
	taint := p.opts.ArmTaint
	if taint == nil {
		return
	}
	for i := range p.spec.Tolerations {
		if Tolerates(p.spec.Tolerations[i], *taint) {
			return
		}
	}
	t := corev1.Toleration{Key: taint.Key, Operator: corev1.TolerationOpEqual, Value: taint.Value, Effect: taint.Effect}
	if taint.Value == "" {
		t.Operator = corev1.TolerationOpExists
	}
	p.spec.Tolerations = append(p.spec.Tolerations, t)
	p.summary("toleration " + FormatTaint(*taint))
}

// Tolerates reports whether tol tolerates taint (Lt/Gt operators never do).
func Tolerates(tol corev1.Toleration, taint corev1.Taint) bool {
	return tol.ToleratesTaint(logr.Discard(), &taint, false)
}

func (p *placer) nodeAffinity() *corev1.NodeAffinity {
	if p.spec.Affinity == nil {
		p.spec.Affinity = &corev1.Affinity{}
	}
	if p.spec.Affinity.NodeAffinity == nil {
		p.spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	return p.spec.Affinity.NodeAffinity
}

func (p *placer) finding(s string) { p.out.Findings = append(p.out.Findings, s) }

// block records a finding that leaves the spec as it was.
func (p *placer) block(s string) {
	p.finding(s)
	p.out.Blocked = true
}
func (p *placer) summary(s string) { p.out.Summary = append(p.out.Summary, s) }

type containerRef struct {
	kind, name, image string
}

// containers lists every container of spec: regular, init and ephemeral.
func containers(spec *corev1.PodSpec) []containerRef {
	var out []containerRef
	for _, c := range spec.InitContainers {
		out = append(out, containerRef{"init", c.Name, c.Image})
	}
	for _, c := range spec.Containers {
		out = append(out, containerRef{"regular", c.Name, c.Image})
	}
	for _, c := range spec.EphemeralContainers {
		out = append(out, containerRef{"ephemeral", c.Name, c.Image})
	}
	return out
}

// Images returns the distinct image references of spec's containers (init
// and ephemeral included), in order: the keys Place needs.
func Images(spec *corev1.PodSpec) []string {
	if spec == nil {
		return nil
	}
	var out []string
	for _, c := range containers(spec) {
		if c.image != "" && !slices.Contains(out, c.image) {
			out = append(out, c.image)
		}
	}
	return out
}

func requiredSelector(spec *corev1.PodSpec) *corev1.NodeSelector {
	a := spec.Affinity
	if a == nil || a.NodeAffinity == nil {
		return nil
	}
	return a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
}

func requiredTerms(spec *corev1.PodSpec) []corev1.NodeSelectorTerm {
	if sel := requiredSelector(spec); sel != nil {
		return sel.NodeSelectorTerms
	}
	return nil
}

// termArchs returns the architectures one node-selector term allows, or nil
// when it does not constrain the architecture (workload.PodArchitectures on
// a spec holding just that term).
func termArchs(term corev1.NodeSelectorTerm) []string {
	return workload.PodArchitectures(&corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{term}},
	}}})
}

// normArchs normalises architecture names (aarch64 → arm64), dedupes and sorts.
func normArchs(in []string) []string {
	var out []string
	for _, a := range in {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		n := platform.Normalize(platform.Platform{Architecture: a}).Architecture
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
