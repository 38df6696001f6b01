package nodes

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/placement"
)

// maxASGTags is the number of tags an Auto Scaling group can carry.
const maxASGTags = 50

// caTaintValue is the Cluster Autoscaler's test of a taint tag's value
// (cloudprovider/aws/aws_manager.go extractTaintsFromAsg): unanchored, so
// only a value with one of the three effects after a colon is read; any
// other value is dropped without a log line.
var caTaintValue = regexp.MustCompile(`(.*):(?:NoSchedule|NoExecute|PreferNoSchedule)`)

// typoPrefixes are misspelt tag prefixes the autoscaler never reads.
var typoPrefixes = map[string]string{
	"k8s.io/cluster-autoscaler/node-template/taints/": TaintTagPrefix,
	"k8s.io/cluster-autoscaler/node-template/labels/": LabelTagPrefix,
}

// CAVersion is a Cluster Autoscaler minor version, e.g. 1.29.
type CAVersion struct{ Major, Minor int }

// ParseCAVersion reads "1.29", "v1.29.3" or "1.29.3".
func ParseCAVersion(s string) (CAVersion, error) {
	parts := strings.Split(strings.TrimPrefix(strings.TrimSpace(s), "v"), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return CAVersion{}, fmt.Errorf("cluster autoscaler version %q: want MAJOR.MINOR[.PATCH], e.g. 1.31.0", s)
	}
	var n [2]int
	for i := range n {
		v, err := strconv.Atoi(parts[i])
		if err != nil || v < 0 {
			return CAVersion{}, fmt.Errorf("cluster autoscaler version %q: want MAJOR.MINOR[.PATCH], e.g. 1.31.0", s)
		}
		n[i] = v
	}
	return CAVersion{n[0], n[1]}, nil
}

func (v CAVersion) less(major, minor int) bool {
	return v.Major < major || (v.Major == major && v.Minor < minor)
}

// String writes v as MAJOR.MINOR.
func (v CAVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Options configure Check.
type Options struct {
	// CAVersion is the Cluster Autoscaler's version; nil when not known.
	CAVersion *CAVersion
	// CASource says where CAVersion comes from, e.g. "--ca-version".
	CASource string
}

// Check runs every group check and returns the findings, sorted.
func Check(groups []Group, opts Options) []Finding {
	c := checker{opts: opts}
	for _, g := range groups {
		c.arch(g)
		c.karpenter(g)
		c.tags(g)
	}
	c.untaintedArm(groups)
	Sort(c.out)
	return c.out
}

type checker struct {
	opts Options
	out  []Finding
}

func (c *checker) add(f Finding) { c.out = append(c.out, f) }

func (c *checker) arch(g Group) {
	if len(g.UnknownTypes) > 0 {
		src, date := DataSource()
		c.add(Finding{
			Rule: "instance-type-unknown", Severity: SeverityUnknown, Group: g.Name,
			Message:  fmt.Sprintf("the architecture of %s is unknown: archway's instance-type data (of %s) does not list it, and it is not assumed to be x86", strings.Join(g.UnknownTypes, ", "), date),
			Evidence: append(slices.Clone(g.ArchEvidence), "instance-type data: "+src),
			Fix:      "name instance types archway knows, or give the group a kubernetes.io/arch label; report the family to archway if it is new",
		})
	}
	if len(g.Archs) < 2 {
		return
	}
	switch g.Kind {
	case KindNodePool:
		c.add(Finding{
			Rule: "nodepool-both-arches", Severity: SeverityWarning, Group: g.Name,
			Message:  fmt.Sprintf("NodePool allows %s: Karpenter may give a pod with no kubernetes.io/arch constraint either architecture (often the cheaper arm64), and an amd64-only image then dies with exec format error", strings.Join(g.Archs, " and ")),
			Evidence: g.ArchEvidence,
			Fix:      "pin every workload to the architectures its images support (archway place), or split the NodePool per architecture and taint the arm64 one",
		})
	case KindNodes:
		c.add(Finding{
			Rule: "mixed-arch", Severity: SeverityWarning, Group: g.Name,
			Message:  fmt.Sprintf("nodes of one group have different architectures (%s)", strings.Join(g.Archs, ", ")),
			Evidence: g.ArchEvidence,
			Fix:      "keep one architecture per node group",
		})
	default:
		first, _ := Arch(g.InstanceTypes[0])
		c.add(Finding{
			Rule: "mixed-arch", Severity: SeverityError, Group: g.Name,
			Message:  fmt.Sprintf("the group launches %s instance types, but the Cluster Autoscaler builds the node of a group from its first instance type only (%s, %s): it scales this group for pods that cannot run on the other architecture's nodes, or not at all", strings.Join(g.Archs, " and "), g.InstanceTypes[0], first),
			Evidence: g.ArchEvidence,
			Fix:      "split the group into one group per architecture, each with instance types of one architecture",
		})
	}
}

func (c *checker) karpenter(g Group) {
	if g.Kind != KindNodePool {
		return
	}
	switch {
	case g.AMIArchs == nil:
		c.add(Finding{
			Rule: "karpenter-ami-arch", Severity: SeverityUnknown, Group: g.Name,
			Message:  "whether the NodePool's AMIs serve its architectures is unknown",
			Evidence: g.AMIEvidence,
			Fix:      "give the EC2NodeClass and aws ec2 describe-images output for its AMIs as inputs too, or select AMIs with an alias (al2023@latest serves amd64 and arm64)",
		})
	case len(intersect(g.RequirementArchs, g.AMIArchs)) == 0:
		c.add(Finding{
			Rule: "karpenter-ami-arch", Severity: SeverityError, Group: g.Name,
			Message:  fmt.Sprintf("the NodePool allows %s but its AMIs serve %s only: Karpenter can launch no node for it and its pods stay Pending", strings.Join(g.RequirementArchs, ", "), strings.Join(g.AMIArchs, ", ")),
			Evidence: append(slices.Clone(g.ArchEvidence), g.AMIEvidence...),
			Fix:      "select AMIs for the NodePool's architectures (e.g. alias al2023@latest), or change its kubernetes.io/arch requirement",
		})
	default:
		if missing := slices.DeleteFunc(slices.Clone(g.RequirementArchs), func(a string) bool { return slices.Contains(g.AMIArchs, a) }); len(missing) > 0 {
			c.add(Finding{
				Rule: "karpenter-ami-arch", Severity: SeverityWarning, Group: g.Name,
				Message:  fmt.Sprintf("the NodePool allows %s but its AMIs serve %s only: Karpenter never launches %s nodes for it", strings.Join(g.RequirementArchs, ", "), strings.Join(g.AMIArchs, ", "), strings.Join(missing, ", ")),
				Evidence: append(slices.Clone(g.ArchEvidence), g.AMIEvidence...),
				Fix:      fmt.Sprintf("add AMIs for %s, or drop it from the kubernetes.io/arch requirement", strings.Join(missing, ", ")),
			})
		}
	}
	for _, t := range g.StartupTaints {
		if !looksLikeArchTaint(t.Key) || slices.ContainsFunc(g.Taints, func(x corev1.Taint) bool { return x.Key == t.Key }) {
			continue
		}
		c.add(Finding{
			Rule: "karpenter-startup-taint", Severity: SeverityWarning, Group: g.Name,
			Message:  fmt.Sprintf("%s is a startup taint: Karpenter provisions for pods that do not tolerate it and expects something to remove it, so it keeps no workload off these nodes (and if nothing removes it, pods never start)", placement.FormatTaint(t)),
			Evidence: []string{"spec.template.spec.startupTaints: " + placement.FormatTaint(t)},
			Fix:      "move it to spec.template.spec.taints",
		})
	}
}

func looksLikeArchTaint(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "arm") || strings.Contains(k, "arch") || strings.Contains(k, "graviton")
}

// armTainted reports whether the group's nodes repel pods that do not
// tolerate them.
func armTainted(g Group) bool {
	return slices.ContainsFunc(g.Taints, func(t corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	})
}

// untaintedArm flags arm64 groups without a repelling taint in a cluster
// that also has amd64 groups.
func (c *checker) untaintedArm(groups []Group) {
	hasAmd := slices.ContainsFunc(groups, func(g Group) bool { return slices.Contains(g.Archs, "amd64") })
	if !hasAmd {
		return
	}
	for _, g := range groups {
		if g.Kind == KindNodePool || !slices.Equal(g.Archs, []string{"arm64"}) || !g.TaintsKnown || armTainted(g) {
			continue
		}
		c.add(Finding{
			Rule: "arm-group-untainted", Severity: SeverityWarning, Group: g.Name,
			Message:  "arm64 group without a NoSchedule taint in a cluster with amd64 groups: any amd64-only workload without a kubernetes.io/arch constraint can be scheduled here and die with exec format error",
			Evidence: g.ArchEvidence,
			Fix:      "taint the group (e.g. arm=true:NoSchedule) and give arm64-ready workloads the toleration (archway place --arm-taint), or pin every workload (archway place)",
		})
	}
}

// tags checks an Auto Scaling group's node-template tags against the group.
func (c *checker) tags(g Group) {
	if !g.HasASG() || g.Tags == nil {
		return
	}
	keys := slices.Sorted(maps.Keys(g.Tags))
	for _, k := range keys {
		for bad, good := range typoPrefixes {
			if rest, ok := strings.CutPrefix(k, bad); ok {
				c.add(Finding{
					Rule: "tag-key-typo", Severity: SeverityError, Group: g.Name,
					Message:  fmt.Sprintf("tag %s is never read: the Cluster Autoscaler reads %s…", k, good),
					Evidence: []string{k + "=" + g.Tags[k]},
					Fix:      fmt.Sprintf("rename the tag to %s%s", good, rest),
				})
			}
		}
	}
	if len(g.Tags) > maxASGTags {
		c.add(Finding{
			Rule: "asg-tag-limit", Severity: SeverityError, Group: g.Name,
			Message: fmt.Sprintf("%d tags: an Auto Scaling group takes at most %d", len(g.Tags), maxASGTags),
			Fix:     "drop tags the autoscaler does not need",
		})
	}
	c.caManagedTaints(g)
	if c.managedUnpropagated(g) {
		return
	}
	c.archTag(g)
	c.labelTags(g)
	c.taintTags(g)
}

// managedUnpropagated reports (and flags) a managed node group whose
// labels, taints and tags never reach its ASG.
func (c *checker) managedUnpropagated(g Group) bool {
	if !g.Managed {
		return false
	}
	hasTemplateTags := slices.ContainsFunc(slices.Collect(maps.Keys(g.Tags)), func(k string) bool {
		return strings.HasPrefix(k, LabelTagPrefix) || strings.HasPrefix(k, TaintTagPrefix)
	})
	unpropagated := g.TagsPredicted && !g.PropagateASGTags || !g.TagsPredicted && !hasTemplateTags
	if !unpropagated {
		return false
	}
	if len(g.Labels) == 0 && len(g.Taints) == 0 && !slices.Contains(g.Archs, "arm64") {
		return true // nothing the autoscaler needs to know
	}
	var missing []string
	for _, t := range wantTags(g) {
		missing = append(missing, "the ASG lacks "+t.Key+"="+t.Value)
	}
	c.add(Finding{
		Rule: "managed-group-tags-not-on-asg", Severity: SeverityWarning, Group: g.Name,
		Message:  "EKS does not copy a managed node group's labels, taints or tags to its Auto Scaling group; the Cluster Autoscaler (≥ 1.24) reads them from DescribeNodegroup only while the group is at zero and has never had nodes, so scale-up from zero misjudges which pods fit",
		Evidence: missing,
		Fix:      "with eksctl set propagateASGTags: true and give each taint as a tag with value:Effect (archway nodes tags prints them); otherwise add the tags to the ASG with aws autoscaling create-or-update-tags",
	})
	return true
}

// caManagedTaints flags the autoscaler versions that read a managed
// group's EKS taints with the EKS effect spelling.
func (c *checker) caManagedTaints(g Group) {
	v := c.opts.CAVersion
	if v == nil || !g.Managed || len(g.Taints) == 0 || v.less(1, 24) || !v.less(1, 31) {
		return
	}
	for _, t := range g.Taints {
		if value, effect, ok := taintTag(g.Tags[TaintTagPrefix+t.Key]); ok && value == t.Value && effect == t.Effect {
			continue
		}
		c.add(Finding{
			Rule: "ca-mng-taint-effect", Severity: SeverityError, Group: g.Name,
			Message:  fmt.Sprintf("Cluster Autoscaler %s reads this managed group's taint %s from EKS with the EKS effect spelling (NO_SCHEDULE), which is no Kubernetes effect: its template node never repels a pod, so it scales this group for pods that do not tolerate the taint and they stay Pending (kubernetes/autoscaler#6481, fixed in 1.31.0)", v, placement.FormatTaint(t)),
			Evidence: []string{"Cluster Autoscaler " + v.String() + " (" + c.opts.CASource + ")", "taint " + placement.FormatTaint(t)},
			Fix:      fmt.Sprintf("upgrade the Cluster Autoscaler to 1.31 or later, or tag the ASG %s%s=%s:%s", TaintTagPrefix, t.Key, t.Value, t.Effect),
		})
	}
}

func (c *checker) archTag(g Group) {
	if len(g.Archs) != 1 {
		return
	}
	arch := g.Archs[0]
	for _, key := range []string{corev1.LabelArchStable, "beta.kubernetes.io/arch"} {
		if v, ok := g.Tags[LabelTagPrefix+key]; ok && v != arch {
			c.add(Finding{
				Rule: "arch-label-tag-contradicts", Severity: SeverityError, Group: g.Name,
				Message:  fmt.Sprintf("the tag says %s=%s but the group's instances are %s; the autoscaler lets the tag win over the instance type, so it scales this group for %s pods that cannot run on it", key, v, arch, v),
				Evidence: append([]string{LabelTagPrefix + key + "=" + v}, g.ArchEvidence...),
				Fix:      fmt.Sprintf("set the tag %s%s to %s", LabelTagPrefix, key, arch),
			})
		}
	}
	if _, ok := g.Tags[LabelTagPrefix+corev1.LabelArchStable]; ok || arch != "arm64" {
		return
	}
	sev, why := SeverityWarning, "Cluster Autoscaler ≤ 1.21 on AWS (and other providers' templates) assume amd64 for a group at zero"
	if v := c.opts.CAVersion; v != nil && v.less(1, 22) {
		sev, why = SeverityError, fmt.Sprintf("Cluster Autoscaler %s builds the node of a group at zero with beta.kubernetes.io/arch=amd64 hard-coded", v)
	}
	c.add(Finding{
		Rule: "arch-label-tag-missing", Severity: sev, Group: g.Name,
		Message:  "arm64 group without the tag " + LabelTagPrefix + "kubernetes.io/arch=arm64: " + why + ", so pods that require arm64 cannot make it scale up from zero",
		Evidence: g.ArchEvidence,
		Fix:      "tag the ASG " + LabelTagPrefix + "kubernetes.io/arch=arm64",
	})
}

func (c *checker) labelTags(g Group) {
	for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
		if k == corev1.LabelArchStable {
			continue
		}
		v := g.Labels[k]
		have, ok := g.Tags[LabelTagPrefix+k]
		switch {
		case !ok:
			c.add(Finding{
				Rule: "label-tag-missing", Severity: SeverityWarning, Group: g.Name,
				Message:  fmt.Sprintf("nodes are labelled %s=%s but the ASG has no label tag for it: a pod selecting that label cannot make the autoscaler scale this group up from zero", k, v),
				Evidence: []string{"label " + k + "=" + v},
				Fix:      fmt.Sprintf("tag the ASG %s%s=%s", LabelTagPrefix, k, v),
			})
		case have != v:
			c.add(Finding{
				Rule: "label-tag-mismatch", Severity: SeverityError, Group: g.Name,
				Message:  fmt.Sprintf("nodes are labelled %s=%s but the ASG's tag says %s", k, v, have),
				Evidence: []string{"label " + k + "=" + v, LabelTagPrefix + k + "=" + have},
				Fix:      fmt.Sprintf("set the tag %s%s to %s", LabelTagPrefix, k, v),
			})
		}
	}
}

// taintTag reads a taint tag's value as the autoscaler does.
func taintTag(v string) (value string, effect corev1.TaintEffect, ok bool) {
	if !caTaintValue.MatchString(v) {
		return "", "", false
	}
	value, e, _ := strings.Cut(v, ":")
	switch effect = corev1.TaintEffect(e); effect {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute, corev1.TaintEffectPreferNoSchedule:
		return value, effect, true
	}
	return "", "", false
}

func (c *checker) taintTags(g Group) {
	tagged := map[string]corev1.Taint{}
	for _, k := range slices.Sorted(maps.Keys(g.Tags)) {
		key, ok := strings.CutPrefix(k, TaintTagPrefix)
		if !ok {
			continue
		}
		v := g.Tags[k]
		value, effect, ok := taintTag(v)
		if ok {
			tagged[key] = corev1.Taint{Key: key, Value: value, Effect: effect}
			continue
		}
		fix := taintTagFix(k, v, g)
		msg := fmt.Sprintf("taint tag value %q is not VALUE:Effect (Effect one of NoSchedule, NoExecute, PreferNoSchedule): the Cluster Autoscaler drops it without a log line, and scales this group for pods that do not tolerate the taint", v)
		if g.TagsPredicted && g.PropagateASGTags {
			msg += "; eksctl's propagateASGTags writes a taint tag with the taint's value only, without the effect (GenerateClusterAutoscalerTags)"
		}
		c.add(Finding{Rule: "taint-tag-format", Severity: SeverityError, Group: g.Name, Message: msg, Evidence: []string{k + "=" + v}, Fix: fix})
		tagged[key] = corev1.Taint{Key: key, Effect: "invalid"}
	}
	if !g.TaintsKnown {
		return
	}
	sev := SeverityError
	if g.Managed {
		sev = SeverityWarning // the autoscaler may still read the taint from DescribeNodegroup
	}
	for _, t := range g.Taints {
		tag, ok := tagged[t.Key]
		switch {
		case !ok:
			c.add(Finding{
				Rule: "taint-tag-missing", Severity: sev, Group: g.Name,
				Message:  fmt.Sprintf("nodes register with the taint %s but the ASG has no taint tag for it: the autoscaler scales this group from zero for pods that do not tolerate it, and they stay Pending", placement.FormatTaint(t)),
				Evidence: g.TaintEvidence,
				Fix:      fmt.Sprintf("tag the ASG %s%s=%s:%s", TaintTagPrefix, t.Key, t.Value, t.Effect),
			})
		case tag.Effect != "invalid" && (tag.Value != t.Value || tag.Effect != t.Effect):
			c.add(Finding{
				Rule: "taint-tag-mismatch", Severity: SeverityError, Group: g.Name,
				Message:  fmt.Sprintf("nodes register with the taint %s but the ASG's tag says %s", placement.FormatTaint(t), placement.FormatTaint(tag)),
				Evidence: append([]string{TaintTagPrefix + t.Key + "=" + g.Tags[TaintTagPrefix+t.Key]}, g.TaintEvidence...),
				Fix:      fmt.Sprintf("set the tag %s%s to %s:%s", TaintTagPrefix, t.Key, t.Value, t.Effect),
			})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(tagged)) {
		if _, ok := taintByKey(g.Taints, key); ok || tagged[key].Effect == "invalid" {
			continue
		}
		c.add(Finding{
			Rule: "taint-tag-extra", Severity: SeverityError, Group: g.Name,
			Message:  fmt.Sprintf("the ASG's tag says nodes are tainted %s but they register without that taint: the autoscaler will not scale this group for pods that would fit", placement.FormatTaint(tagged[key])),
			Evidence: []string{TaintTagPrefix + key + "=" + g.Tags[TaintTagPrefix+key]},
			Fix:      fmt.Sprintf("register the nodes with the taint (eksctl taints, kubelet --register-with-taints) or remove the tag %s%s", TaintTagPrefix, key),
		})
	}
}

// taintTagFix says how to write the taint tag k=v right.
func taintTagFix(k, v string, g Group) string {
	key := strings.TrimPrefix(k, TaintTagPrefix)
	var fix string
	if t, known := taintByKey(g.Taints, key); known {
		fix = fmt.Sprintf("set the tag %s to %s:%s", k, t.Value, t.Effect)
	} else if e, err := parseEffect(v); err == nil {
		fix = fmt.Sprintf("the value is the effect alone: write the taint's value before it, e.g. %s=true:%s for the taint %s=true:%s (or :%s for a taint without a value)", k, e, key, e, e)
	} else if value, effect, ok := strings.Cut(v, ":"); ok {
		if e, err := parseEffect(effect); err == nil {
			fix = fmt.Sprintf("spell the effect as Kubernetes does: %s=%s:%s", k, value, e)
		} else {
			fix = fmt.Sprintf("write the value as VALUE:Effect with Effect NoSchedule, NoExecute or PreferNoSchedule, e.g. %s=%s:NoSchedule", k, value)
		}
	} else {
		fix = fmt.Sprintf("add the taint's effect: %s=%s:NoSchedule (or NoExecute, PreferNoSchedule)", k, v)
	}
	switch {
	case g.TagsPredicted && g.PropagateASGTags && g.Managed:
		fix += "; in the eksctl config put that tag under the group's tags: eksctl copies a managed group's own tags after the generated ones, so they win"
	case g.TagsPredicted && g.PropagateASGTags:
		fix += "; eksctl cannot write the effect for a self-managed group: drop propagateASGTags and give the label and taint tags under the group's tags (archway nodes tags prints them)"
	}
	return fix
}

func taintByKey(ts []corev1.Taint, key string) (corev1.Taint, bool) {
	for _, t := range ts {
		if t.Key == key {
			return t, true
		}
	}
	return corev1.Taint{}, false
}
