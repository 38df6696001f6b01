package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/placement"
)

// AnnotationKey is the pod annotation archway reads and writes: a pod that
// carries it with the value AnnotationDisabled is left alone; on every
// other pod the webhook records what it did ("placed (...)", "audit
// (...)", "skipped (<reason>)", "unplaced (...)").
const AnnotationKey = "archway.dev/placement"

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
	// Resolver answers the image lookups. Required.
	Resolver *Resolver
	// Placement configures placement.Place.
	Placement placement.Options
	// Mode is enforce (default) or audit.
	Mode Mode
	// Budget bounds the lookups of one admission; default DefaultBudget.
	// When it runs out the pod is admitted unchanged and annotated.
	Budget time.Duration
	// Jobs bounds the concurrent lookups of one admission; default 8.
	Jobs int
	// Lookups gives the registry lookup for a pod's credentials. Required.
	Lookups Lookups
	// Metrics receives the counts; nil records nothing.
	Metrics *Metrics
	// Logger receives one line per admission; nil discards.
	Logger *slog.Logger
}

// PodPlacer is the Handler that places pods at creation.
type PodPlacer struct {
	opts PodPlacerOptions
	log  *slog.Logger
}

var _ Handler = (*PodPlacer)(nil)

// NewPodPlacer returns a PodPlacer.
func NewPodPlacer(opts PodPlacerOptions) (*PodPlacer, error) {
	if opts.Resolver == nil || opts.Lookups == nil {
		return nil, errors.New("pod placer: no resolver or lookups")
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
	var pod corev1.Pod
	if err := json.Unmarshal(req.Object.Raw, &pod); err != nil {
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

	images, failed := p.lookupAll(ctx, req.Namespace, &pod.Spec)
	out := placement.Place(&pod.Spec, images, p.opts.Placement)

	switch {
	case failed != nil || out.Skipped != "":
		cause, reason := skipReason(failed, out.Skipped, p.opts.Budget)
		log.Info("admission", "outcome", OutcomeSkipped, "reason", reason)
		p.count(OutcomeSkipped, cause)
		return p.annotate(req, &pod, "skipped ("+reason+")", []string{"archway: placement skipped: " + reason})
	case !out.Changed && len(out.Findings) > 0:
		log.Info("admission", "outcome", OutcomeUnplaceable, "findings", out.Findings)
		p.count(OutcomeUnplaceable, "")
		return p.annotate(req, &pod, "unplaced ("+strings.Join(out.Findings, "; ")+")", prefixed("archway: ", out.Findings))
	case !out.Changed:
		log.Debug("admission", "outcome", OutcomeUnchanged, "allowed", out.Allowed)
		p.count(OutcomeUnchanged, "")
		return Allowed("")
	case p.opts.Mode == ModeAudit:
		log.Info("admission", "outcome", OutcomeAudit, "would", out.Summary)
		p.count(OutcomeAudit, "")
		return p.annotate(req, &pod, "audit (would: "+strings.Join(out.Summary, "; ")+")",
			append(prefixed("archway audit: would ", out.Summary), prefixed("archway: ", out.Findings)...))
	}
	original := req.Object.Raw
	pod.Spec = out.Spec
	setAnnotation(&pod, "placed ("+strings.Join(out.Summary, "; ")+")")
	current, err := json.Marshal(&pod)
	if err != nil {
		p.count(OutcomeSkipped, "internal error")
		log.Error("encode placed pod", "err", err)
		return Allowed("archway: encode placed pod: " + err.Error())
	}
	resp := PatchResponseFromRaw(original, current)
	if !resp.Allowed {
		p.count(OutcomeSkipped, "internal error")
		log.Error("compute patch", "err", resp.Result.Message)
		return Allowed("archway: " + resp.Result.Message)
	}
	resp.Warnings = prefixed("archway: ", out.Findings)
	log.Info("admission", "outcome", OutcomePlaced, "placed", out.Summary)
	p.count(OutcomePlaced, "")
	return resp
}

// lookupAll looks up every image of spec within the budget, Jobs at a time,
// with the pod's credentials. failed is the first failed lookup, if any.
func (p *PodPlacer) lookupAll(ctx context.Context, namespace string, spec *corev1.PodSpec) (images map[string]lookup.Result, failed *lookup.Result) {
	ctx, cancel := context.WithTimeoutCause(ctx, p.opts.Budget, errBudget)
	defer cancel()
	creds := CredentialsOf(namespace, spec)
	fn, authKey := p.opts.Lookups.For(creds), creds.Key()
	refs := placement.Images(spec)
	results := make([]lookup.Result, len(refs))
	var g errgroup.Group
	g.SetLimit(p.opts.Jobs)
	for i, ref := range refs {
		g.Go(func() error {
			results[i] = p.opts.Resolver.Resolve(ctx, ref, authKey, fn)
			return nil
		})
	}
	_ = g.Wait()
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
	if err := json.Unmarshal(req.Object.Raw, &pod); err != nil || req.Kind.Kind != "Pod" {
		return Allowed("archway: internal error")
	}
	return p.annotate(req, &pod, "skipped (internal error)", []string{"archway: placement skipped: internal error"})
}

// annotate admits the pod with only the placement annotation set to value.
func (p *PodPlacer) annotate(req Request, pod *corev1.Pod, value string, warnings []string) Response {
	setAnnotation(pod, value)
	current, err := json.Marshal(pod)
	if err != nil {
		return Allowed("archway: encode pod: " + err.Error())
	}
	resp := PatchResponseFromRaw(req.Object.Raw, current)
	if !resp.Allowed {
		return Allowed("archway: " + resp.Result.Message)
	}
	resp.Warnings = warnings
	return resp
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

func setAnnotation(pod *corev1.Pod, value string) {
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[AnnotationKey] = value
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
