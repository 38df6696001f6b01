package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	sigsjson "sigs.k8s.io/json"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/registry"
)

// AnnotationKey is the pod annotation archway reads and writes: a pod that
// carries it with the value AnnotationDisabled is left alone; on every
// other pod the webhook records what it did ("placed (...)", "audit
// (...)", "skipped (<reason>)", "unplaced (...)").
const AnnotationKey = "archway.dev/placement"

// AddedAnnotationKey is the pod annotation in which archway records, as
// JSON, what it added to the pod's placement, so that a reinvocation (or a
// copy of the pod) can take exactly that back before placing again.
const AddedAnnotationKey = "archway.dev/placement-added"

// AnnotationDisabled is the opt-out value of AnnotationKey. The same label on
// a namespace excludes it through the webhook configuration's namespaceSelector.
const AnnotationDisabled = "disabled"

// Mode says whether the webhook changes pods or only reports.
type Mode string

// The webhook's modes.
const (
	ModeEnforce Mode = "enforce" // patch the placement into the pod
	ModeAudit   Mode = "audit"   // only annotate and warn what would be done
)

// ParseMode parses "enforce" or "audit".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeEnforce, ModeAudit:
		return m, nil
	}
	return "", fmt.Errorf("mode %q: want enforce or audit", s)
}

// DefaultBudget is the default time one admission may spend on lookups,
// below the API server's webhook timeout.
const DefaultBudget = 2 * time.Second

// PodPlacerOptions configure a PodPlacer.
type PodPlacerOptions struct {
	// Cache answers the image lookups. Required.
	Cache *registry.MemCache
	// Placement configures placement.Place.
	Placement placement.Options
	// Mode is enforce (default) or audit.
	Mode Mode
	// Budget bounds the lookups of one admission; default DefaultBudget.
	// When it runs out the pod is admitted unchanged and annotated.
	Budget time.Duration
	// Jobs bounds the concurrent lookups of one admission; default 8.
	Jobs int
	// Lookups gives the registry credentials for a pod's pull secrets.
	// Required.
	Lookups Lookups
	// Metrics receives the counts; nil records nothing.
	Metrics *Metrics
	// Logger receives one line per admission; nil discards.
	Logger *slog.Logger
}

// PodPlacer is the Handler that places pods at creation.
//
// It judges the pod as it is now, containers injected by other webhooks
// included: what archway added at an earlier invocation (recorded in the
// AddedAnnotationKey annotation) is taken back first and the placement made
// again, so a reinvocation after a sidecar injector tightens the
// architecture requirement and drops a toleration that no longer holds.
// The patch is computed on the raw object and touches only the pod's
// affinity, tolerations, nodeSelector and archway's annotations: fields
// archway does not know are never removed.
type PodPlacer struct {
	opts PodPlacerOptions
	log  *slog.Logger
}

var _ Handler = (*PodPlacer)(nil)

// NewPodPlacer returns a PodPlacer.
func NewPodPlacer(opts PodPlacerOptions) (*PodPlacer, error) {
	if opts.Cache == nil || opts.Lookups == nil {
		return nil, errors.New("pod placer: no cache or lookups")
	}
	if opts.Mode == "" {
		opts.Mode = ModeEnforce
	}
	if _, err := ParseMode(string(opts.Mode)); err != nil {
		return nil, fmt.Errorf("pod placer: %w", err)
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if opts.Jobs <= 0 {
		opts.Jobs = 8
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PodPlacer{opts: opts, log: log}, nil
}

var errBudget = errors.New("admission budget exhausted")

// Handle places a Pod being created. Anything else is admitted unchanged.
func (p *PodPlacer) Handle(ctx context.Context, req Request) Response {
	start := time.Now()
	if req.Kind.Group != "" || req.Kind.Kind != "Pod" || req.Operation != "CREATE" || req.SubResource != "" {
		p.count(OutcomeIgnored, "")
		return Allowed("not a pod creation")
	}
	// The typed pod is only read: the patch is made against the raw object,
	// decoded as the API server decodes it (keys case-sensitive), so that
	// the patch's paths are the fields the pod has. A duplicate field, which
	// the API server never writes, would make the typed pod (fields merged)
	// and the raw object (the last one kept) two different pods.
	var pod corev1.Pod
	if err := decodePod(req.Object.Raw, &pod); err != nil {
		p.count(OutcomeSkipped, "bad object")
		p.log.Warn("admission skipped", "uid", req.UID, "reason", "bad object", "err", err)
		r := Allowed("archway: cannot decode the pod: " + err.Error())
		r.Warnings = []string{"archway: placement skipped: cannot decode the pod"}
		return r
	}
	log := p.log.With("uid", req.UID, "namespace", req.Namespace, "pod", podName(&pod))
	if pod.Annotations[AnnotationKey] == AnnotationDisabled {
		p.count(OutcomeDisabled, "")
		log.Debug("admission", "outcome", OutcomeDisabled)
		return Allowed("placement disabled by annotation")
	}
	defer func() {
		if p.opts.Metrics != nil {
			p.opts.Metrics.AdmissionTime.Observe(time.Since(start).Seconds())
		}
	}()

	// What archway added before (a reinvocation) is taken back, and the pod
	// as it is now, injected containers included, placed again.
	base, reverted := revert(&pod.Spec, addedOf(&pod))
	images, failed := p.lookupAll(ctx, req.Namespace, &base)
	out := placement.Place(&base, images, p.opts.Placement)
	ch := change{spec: base, reverted: reverted}

	switch {
	case failed != nil || out.Skipped != "":
		cause, reason := skipReason(failed, out.Skipped, p.opts.Budget)
		log.Info("admission", "outcome", OutcomeSkipped, "reason", reason)
		p.count(OutcomeSkipped, cause)
		ch.annotation = "skipped (" + reason + ")"
		return p.respond(req, &pod, ch, []string{"archway: placement skipped: " + reason})
	case !out.Changed && len(out.Findings) > 0:
		log.Info("admission", "outcome", OutcomeUnplaceable, "findings", out.Findings)
		p.count(OutcomeUnplaceable, "")
		ch.annotation = "unplaced (" + strings.Join(out.Findings, "; ") + ")"
		return p.respond(req, &pod, ch, prefixed("archway: ", out.Findings))
	case !out.Changed:
		log.Debug("admission", "outcome", OutcomeUnchanged, "allowed", out.Allowed)
		p.count(OutcomeUnchanged, "")
		if reverted {
			ch.annotation = "unchanged"
		}
		return p.respond(req, &pod, ch, nil)
	case p.opts.Mode == ModeAudit:
		log.Info("admission", "outcome", OutcomeAudit, "would", out.Summary)
		p.count(OutcomeAudit, "")
		ch.annotation = "audit (would: " + strings.Join(out.Summary, "; ") + ")"
		return p.respond(req, &pod, ch, append(prefixed("archway audit: would ", out.Summary), prefixed("archway: ", out.Findings)...))
	}
	ch.spec = out.Spec
	ch.annotation = "placed (" + strings.Join(out.Summary, "; ") + ")"
	ch.added = addedBy(&base, &out.Spec)
	log.Info("admission", "outcome", OutcomePlaced, "placed", out.Summary)
	p.count(OutcomePlaced, "")
	return p.respond(req, &pod, ch, prefixed("archway: ", out.Findings))
}

// decodePod reads raw as the API server does, refusing duplicate fields.
func decodePod(raw []byte, pod *corev1.Pod) error {
	strict, err := sigsjson.UnmarshalStrict(raw, pod, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// respond admits the pod with the patch that makes ch.
func (p *PodPlacer) respond(req Request, pod *corev1.Pod, ch change, warnings []string) Response {
	patches, err := ch.patch(pod, req.Object.Raw)
	if err != nil {
		p.log.Error("compute patch", "uid", req.UID, "err", err)
		return Allowed("archway: compute patch: " + err.Error())
	}
	r := Response{Patches: patches, AdmissionResponse: admissionv1.AdmissionResponse{Allowed: true}}
	r.Warnings = warnings
	return r
}

// lookupAll looks up every image of spec within the budget, Jobs at a time,
// with the pod's credentials. failed is the first failed lookup, if any.
func (p *PodPlacer) lookupAll(ctx context.Context, namespace string, spec *corev1.PodSpec) (images map[string]lookup.Result, failed *lookup.Result) {
	ctx, cancel := context.WithTimeoutCause(ctx, p.opts.Budget, errBudget)
	defer cancel()
	refs := placement.Images(spec)
	results := make([]lookup.Result, len(refs))
	creds, err := p.opts.Lookups.For(PullSecretsOf(namespace, spec))
	if err != nil {
		for i, ref := range refs {
			results[i] = lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseUnknown, Err: err}}
		}
	} else {
		var g errgroup.Group
		g.SetLimit(p.opts.Jobs)
		for i, ref := range refs {
			g.Go(func() error {
				results[i] = p.opts.Cache.Lookup(ctx, ref, creds.Key(ctx, ref), creds.Lookup)
				return nil
			})
		}
		_ = g.Wait()
	}
	images = make(map[string]lookup.Result, len(refs))
	for i, res := range results {
		images[refs[i]] = res
		if res.Err != nil && failed == nil {
			failed = &results[i]
		}
	}
	return images, failed
}

// Recover answers a request whose handling panicked: admitted unchanged but
// for the skipped annotation.
func (p *PodPlacer) Recover(req Request, v any) Response {
	p.count(OutcomeSkipped, "internal error")
	var pod corev1.Pod
	if err := utiljson.Unmarshal(req.Object.Raw, &pod); err != nil || req.Kind.Kind != "Pod" {
		return Allowed("archway: internal error")
	}
	ch := change{spec: pod.Spec, annotation: "skipped (internal error)", keepAdded: true}
	return p.respond(req, &pod, ch, []string{"archway: placement skipped: internal error"})
}

func (p *PodPlacer) count(outcome, reason string) {
	m := p.opts.Metrics
	if m == nil {
		return
	}
	m.Admissions.WithLabelValues(outcome).Inc()
	if outcome == OutcomeSkipped {
		m.Skips.WithLabelValues(reason).Inc()
	}
}

// skipReason returns the metric label and the human reason of a skip.
func skipReason(failed *lookup.Result, skipped string, budget time.Duration) (cause, reason string) {
	if failed == nil {
		return "unknown image", skipped
	}
	c := lookup.CauseOf(failed.Err)
	if c == lookup.CauseTimeout {
		return string(c), fmt.Sprintf("lookup of %s timed out (budget %s)", failed.Ref, budget)
	}
	return string(c), fmt.Sprintf("lookup of %s failed: %s", failed.Ref, c)
}

func podName(pod *corev1.Pod) string {
	if pod.Name != "" {
		return pod.Name
	}
	return pod.GenerateName
}

func prefixed(prefix string, lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, prefix+l)
	}
	return out
}
