package policyreport

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/workload"
)

// Format is the report API to write.
type Format string

// The formats.
const (
	PolicyReport Format = "policyreport" // wgpolicyk8s.io/v1alpha2 PolicyReport
	OpenReports  Format = "openreports"  // openreports.io/v1alpha1 Report
)

// ParseFormat parses a --format value; empty is PolicyReport.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(s)) {
	case "", PolicyReport:
		return PolicyReport, nil
	case OpenReports:
		return OpenReports, nil
	}
	return "", fmt.Errorf("format %q: want policyreport or openreports", s)
}

// APIVersion and Kind are the report's type in this format.
func (f Format) APIVersion() string {
	if f == OpenReports {
		return "openreports.io/v1alpha1"
	}
	return "wgpolicyk8s.io/v1alpha2"
}

// Kind is the namespaced report kind of f.
func (f Format) Kind() string {
	if f == OpenReports {
		return "Report"
	}
	return "PolicyReport"
}

// Labels and values every report carries.
const (
	// ManagedByLabel with ManagedBy marks the reports archway owns; Apply
	// deletes only those.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "archway"
	// PolicyLabel names the policy the report holds results of.
	PolicyLabel = "archway.dev/policy"
	// Source is every result's source.
	Source = "archway"
	// FieldManager is the server-side-apply field manager.
	FieldManager = "archway"
)

// Defaults for the size limits: etcd refuses values over 1.5 MiB and the
// API server requests over 3 MiB.
const (
	DefaultMaxResults = 1000
	DefaultMaxBytes   = 1 << 20
)

// Result values, as the report APIs spell them.
const (
	Pass  = "pass"
	Fail  = "fail"
	Warn  = "warn"
	Error = "error"
	Skip  = "skip"
)

// Options configure Build.
type Options struct {
	// Format is the report API; default PolicyReport.
	Format Format
	// Placement is the cluster's architectures and arm taint, which
	// placement-present and toleration-present check against.
	Placement placement.Options
	// MaxResults and MaxBytes bound one report; a namespace with more is
	// split into parts. Defaults DefaultMaxResults and DefaultMaxBytes.
	MaxResults, MaxBytes int
	// Now is the results' timestamp.
	Now time.Time
}

// Policy is the policy name for target architecture arch, e.g.
// "arm64-readiness".
func Policy(arch string) string { return arch + "-readiness" }

// RuleImages is the images rule's name for target architecture arch,
// e.g. "images-support-arm64".
func RuleImages(arch string) string { return "images-support-" + arch }

// Rule names that do not depend on the target.
const (
	RulePlacement  = "placement-present"
	RuleToleration = "toleration-present"
)

// Name is the name of a namespace's report, part i (0-based): parts after
// the first get a suffix.
func Name(arch string, part int) string {
	n := "archway-" + Policy(arch)
	if part > 0 {
		n += "-" + strconv.Itoa(part+1)
	}
	return n
}

// Build returns the reports for rep's workloads: per namespace, one
// report or more when it exceeds the size limits, ordered by namespace
// and part. Workloads without a namespace (none in a cluster) are left
// out.
func Build(rep assess.Report, o Options) []*unstructured.Unstructured {
	if o.Format == "" {
		o.Format = PolicyReport
	}
	if o.MaxResults <= 0 {
		o.MaxResults = DefaultMaxResults
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	images := map[string]lookup.Result{}
	for _, iv := range rep.Images {
		images[iv.Ref] = iv.Result
	}
	byNS := map[string][]map[string]any{}
	for _, wr := range rep.Workloads {
		ns := wr.Workload.Namespace
		if ns == "" {
			continue
		}
		byNS[ns] = append(byNS[ns], results(wr, images, rep.Target.Architecture, o)...)
	}
	var out []*unstructured.Unstructured
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		for i, part := range split(byNS[ns], o.MaxResults, o.MaxBytes) {
			out = append(out, report(ns, Name(rep.Target.Architecture, i), rep.Target.Architecture, part, o))
		}
	}
	return out
}

// split cuts rs into parts of at most maxResults results and about
// maxBytes of JSON each (a part holds at least one result).
func split(rs []map[string]any, maxResults, maxBytes int) [][]map[string]any {
	const overhead = 2048 // metadata and summary
	var parts [][]map[string]any
	var cur []map[string]any
	size := overhead
	for _, r := range rs {
		b, _ := json.Marshal(r) // plain values: cannot fail
		if len(cur) > 0 && (len(cur) >= maxResults || size+len(b)+1 > maxBytes) {
			parts = append(parts, cur)
			cur, size = nil, overhead
		}
		cur = append(cur, r)
		size += len(b) + 1
	}
	if len(cur) > 0 {
		parts = append(parts, cur)
	}
	return parts
}

// report is one report object.
func report(ns, name, arch string, rs []map[string]any, o Options) *unstructured.Unstructured {
	summary := map[string]any{Pass: int64(0), Fail: int64(0), Warn: int64(0), Error: int64(0), Skip: int64(0)}
	list := make([]any, len(rs))
	for i, r := range rs {
		k := r["result"].(string)
		summary[k] = summary[k].(int64) + 1
		list[i] = r
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": o.Format.APIVersion(),
		"kind":       o.Format.Kind(),
		"metadata": map[string]any{
			"name":      name,
			"namespace": ns,
			"labels":    map[string]any{ManagedByLabel: ManagedBy, PolicyLabel: Policy(arch)},
		},
		"summary": summary,
		"results": list,
	}}
	if o.Format == OpenReports {
		u.Object["source"] = Source
	}
	return u
}

// results are the workload's results, one per rule.
func results(wr assess.WorkloadResult, images map[string]lookup.Result, arch string, o Options) []map[string]any {
	w := wr.Workload
	ts := map[string]any{"seconds": o.Now.Unix(), "nanos": int64(0)}
	res := map[string]any{"kind": w.Kind, "name": w.Name, "namespace": w.Namespace, "apiVersion": w.APIVersion}
	if w.UID != "" {
		res["uid"] = w.UID
	}
	mk := func(rule, result, message string, props map[string]string) map[string]any {
		r := map[string]any{
			"policy": Policy(arch), "rule": rule, "result": result, "source": Source,
			"category": "Architecture", "scored": true, "timestamp": ts,
			"message": message, "resources": []any{res},
		}
		if result == Fail {
			r["severity"] = "medium"
		}
		if len(props) > 0 {
			p := map[string]any{}
			for k, v := range props {
				p[k] = v
			}
			r["properties"] = p
		}
		return r
	}
	out := []map[string]any{imagesResult(wr, arch, mk)}
	if w.PodSpec == nil {
		return out
	}
	pl := placement.Place(w.PodSpec, images, o.Placement)
	out = append(out, placementResult(w, pl, mk))
	if o.Placement.ArmTaint != nil {
		out = append(out, tolerationResult(w, pl, *o.Placement.ArmTaint, mk))
	}
	return out
}

type makeResult func(rule, result, message string, props map[string]string) map[string]any

func imagesResult(wr assess.WorkloadResult, arch string, mk makeResult) map[string]any {
	props := map[string]string{}
	var blocking, unknown, platforms []string
	for _, cr := range wr.Containers {
		if cr.Build {
			continue
		}
		img := cr.Container.Image
		switch cr.Verdict {
		case assess.Unsupported:
			blocking = addOnce(blocking, img)
			platforms = addOnce(platforms, img+"="+strings.Join(platformStrings(cr), ","))
		case assess.Unknown:
			unknown = addOnce(unknown, img+" ("+cmp.Or(string(cr.Cause), "not looked up")+")")
		}
	}
	if len(blocking) > 0 {
		props["blockingImages"] = strings.Join(blocking, " ")
		props["platforms"] = strings.Join(platforms, " ")
		props["advice"] = "publish each blocking image for linux/" + arch + " (a multi-arch index), or pick a tag that has it"
	}
	if len(unknown) > 0 {
		props["unknownImages"] = strings.Join(unknown, " ")
	}
	if rt := wr.Workload.Runtime; rt != nil {
		if s := counts(rt.Running); s != "" {
			props["runningOn"] = s
		}
		var ids []string
		for _, im := range rt.Images {
			ids = addOnce(ids, im.ImageID)
		}
		if len(ids) > 0 {
			props["runningImageIDs"] = strings.Join(ids, " ")
		}
		if n := len(rt.ExecFormatErrors); n > 0 {
			e := rt.ExecFormatErrors[0]
			props["execFormatErrors"] = fmt.Sprintf("%d, first: pod %s container %s on %s (%s)", n, e.Pod, e.Container, e.Node, cmp.Or(e.Architecture, "unknown architecture"))
		}
	}
	if wr.Proven != "" {
		props["proven"] = string(wr.Proven)
	}
	result, msg := Pass, "every image supports linux/"+arch
	switch wr.Verdict {
	case assess.NotReady:
		result, msg = Fail, strings.Join(wr.Reasons, "; ")
	case assess.Unknown:
		result, msg = Error, strings.Join(wr.Reasons, "; ")
	}
	if wr.Proven == assess.Ready {
		msg = "running on " + arch + " now"
	}
	if result == Pass && wr.CouldMove {
		result, msg = Warn, "every image supports linux/"+arch+", but the workload is pinned to "+strings.Join(wr.PinnedArchitectures, ",")+": it could move"
	}
	return mk(RuleImages(arch), result, msg, props)
}

func placementResult(w workload.Workload, pl placement.Outcome, mk makeResult) map[string]any {
	props := map[string]string{}
	if pl.Allowed != nil {
		props["allowedArchitectures"] = strings.Join(pl.Allowed, ",")
	}
	switch {
	case pl.Skipped != "":
		return mk(RulePlacement, Error, "cannot tell the placement the images need: "+pl.Skipped, props)
	case pl.Blocked:
		return mk(RulePlacement, Fail, strings.Join(pl.Findings, "; "), props)
	case !equalPlacement(w.PodSpec, &pl.Spec):
		props["advice"] = "archway place (or the archway webhook) writes it"
		return mk(RulePlacement, Fail, "missing "+strings.Join(pl.Summary, "; "), props)
	}
	return mk(RulePlacement, Pass, "the pods can only land on nodes that run every image", props)
}

func tolerationResult(w workload.Workload, pl placement.Outcome, taint corev1.Taint, mk makeResult) map[string]any {
	t := placement.FormatTaint(taint)
	props := map[string]string{"taint": t}
	switch {
	case pl.Skipped != "":
		return mk(RuleToleration, Error, "cannot tell whether the images run on the tainted nodes: "+pl.Skipped, props)
	case !slices.Contains(pl.Allowed, "arm64"):
		return mk(RuleToleration, Skip, "not every image runs on arm64: no toleration needed", props)
	case len(pl.Spec.Tolerations) != len(w.PodSpec.Tolerations):
		props["advice"] = "archway place --arm-taint " + t + " (or the archway webhook) adds it"
		return mk(RuleToleration, Fail, "can run on arm64 but does not tolerate "+t, props)
	}
	return mk(RuleToleration, Pass, "tolerates "+t, props)
}

// equalPlacement reports whether the placed spec b has the same
// architecture constraints as a (preferences aside).
func equalPlacement(a, b *corev1.PodSpec) bool {
	return maps.Equal(a.NodeSelector, b.NodeSelector) && required(a) == required(b)
}

func required(s *corev1.PodSpec) string {
	if s.Affinity == nil || s.Affinity.NodeAffinity == nil || s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	return s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.String()
}

func platformStrings(cr assess.ContainerResult) []string {
	var out []string
	for _, p := range cr.Platforms.List() {
		out = append(out, p.String())
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// counts writes m as "arm64=2,amd64=1", sorted by key.
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", cmp.Or(k, "unknown"), m[k]))
	}
	return strings.Join(parts, ",")
}

func addOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
