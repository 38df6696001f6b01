package assess

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// Verdict is whether something can run on the target platform. Workloads
// are Ready, NotReady or Unknown; images (and the containers that run
// them) are Supported, Unsupported or Unknown. There is no fourth: a failed
// lookup is Unknown, never Unsupported.
type Verdict string

// The verdicts.
const (
	Ready       Verdict = "ready"       // workload: every image supports the platform
	NotReady    Verdict = "not-ready"   // workload: at least one image is known to lack it
	Supported   Verdict = "supported"   // image: it has the platform
	Unsupported Verdict = "unsupported" // image: the registry says it lacks the platform
	Unknown     Verdict = "unknown"     // could not be told: a lookup failed
)

// Verdicts lists the workload verdicts worst first, the order reports group by.
var Verdicts = []Verdict{NotReady, Unknown, Ready}

// workloadVerdict maps an image verdict to the workload verdict it implies.
func workloadVerdict(v Verdict) Verdict {
	switch v {
	case Supported:
		return Ready
	case Unsupported:
		return NotReady
	}
	return v
}

// ContainerResult is the verdict for one container.
type ContainerResult struct {
	// Container is the container judged.
	Container workload.Container
	// Platform is the platform the container was judged against: its own
	// pin when it has one, else the report's target.
	Platform platform.Platform
	// Pinned is true when Platform comes from the container's own pin.
	Pinned bool
	// Build is true for a build container, which runs on the build host
	// and does not count towards the workload's verdict.
	Build bool
	// Verdict is the container's image verdict: Supported, Unsupported or
	// Unknown.
	Verdict Verdict
	// Digest is the digest the image resolved to; empty when unknown.
	Digest string
	// Platforms are the platforms the image supports (empty when unknown).
	Platforms platform.Set
	// Err is the lookup error when the verdict is Unknown because the
	// lookup failed; Cause classifies it.
	Err   error
	Cause lookup.Cause
	// Reason says why the verdict is what it is, in one line.
	Reason string
}

// WorkloadResult is the verdict for one workload.
type WorkloadResult struct {
	// Workload is the workload judged.
	Workload workload.Workload
	// Verdict is the workload's verdict.
	Verdict Verdict
	// Containers are the per-container verdicts, in the workload's order.
	Containers []ContainerResult
	// Pinned is true when the workload or one of its containers already
	// constrains the architecture.
	Pinned bool
	// PinnedArchitectures are the architectures the pins allow: the
	// workload's own (kubernetes.io/arch, ECS runtimePlatform) and its
	// containers' pins; empty when not pinned.
	PinnedArchitectures []string
	// CouldMove is true when the pins exclude the target architecture
	// although every image supports the target.
	CouldMove bool
	// Architectures are the linux architectures (kubernetes.io/arch
	// values) every counted container's image supports; nil when any of
	// them is unknown.
	Architectures []string
	// Reasons explain the verdict and the pin, one sentence each.
	Reasons []string
	// Proven is the verdict the workload's running pods prove (Ready: a
	// pod runs on the target architecture; NotReady: one failed there
	// with exec format error), which Verdict then is; "" when they prove
	// nothing or there is no runtime evidence.
	Proven Verdict
}

// ImageVerdict is one distinct image and its verdict against the target.
type ImageVerdict struct {
	// Result is what the registry said; Ref is the reference as written.
	lookup.Result
	// Verdict is the image's verdict against the report's target (not
	// against any container's pin): Supported, Unsupported or Unknown.
	Verdict Verdict
	// Reason says why, in one line.
	Reason string
	// Workloads are the IDs of the workloads using the image, in order.
	Workloads []string
	// BuildOnly is true when only build containers use the image.
	BuildOnly bool
}

// Report is the outcome of an assessment.
type Report struct {
	// Target is the platform the workloads were judged against.
	Target platform.Platform
	// Workloads are the per-workload verdicts, in input order.
	Workloads []WorkloadResult
	// Summary counts the verdicts.
	Summary Summary
	// Images are the distinct images, sorted by reference.
	Images []ImageVerdict
}

// Assess judges every workload against target using images, the lookup
// results keyed by image reference. An image missing from images is
// unknown, never not ready.
func Assess(ws []workload.Workload, images map[string]lookup.Result, target platform.Platform) Report {
	return AssessDeep(ws, images, target, nil)
}

// Binaries is what archway verify found inside images (scan --deep): for
// each image reference whose binaries are not of the target platform the
// registry says it has, why.
type Binaries map[string]string

// AssessDeep is Assess, with an image the registry says supports the
// target judged Unsupported when bins says its binaries do not.
func AssessDeep(ws []workload.Workload, images map[string]lookup.Result, target platform.Platform, bins Binaries) Report {
	target = platform.Normalize(target)
	j := judger{images: images, bins: bins, target: target, memo: map[judgeKey]judged{}}
	r := Report{Target: target, Workloads: make([]WorkloadResult, 0, len(ws))}
	for _, w := range ws {
		r.Workloads = append(r.Workloads, assessWorkload(w, j, target))
	}
	r.Images = imageVerdicts(r.Workloads, j, target)
	r.Summary = summarize(r.Workloads, r.Images)
	return r
}

// judger judges image references from the lookups and, with scan --deep,
// what their binaries are.
type judger struct {
	images map[string]lookup.Result
	bins   Binaries          // judged against target only
	target platform.Platform // the report's
	memo   map[judgeKey]judged
}

// judgeKey is one image reference against one platform.
type judgeKey struct {
	ref string
	p   platform.Platform
}

// judged is what judge said, with the platforms of the lookup.
type judged struct {
	img       lookup.Result
	verdict   Verdict
	reason    string
	platforms platform.Set
}

// judgeOnce is judge remembered: a fleet names a few images many times.
func (j judger) judgeOnce(ref string, p platform.Platform) judged {
	k := judgeKey{ref, p}
	if r, ok := j.memo[k]; ok {
		return r
	}
	img, v, reason := j.judge(ref, p)
	r := judged{img: img, verdict: v, reason: reason, platforms: img.Platforms()}
	j.memo[k] = r
	return r
}

// judge returns the verdict of an image reference against p.
func (j judger) judge(ref string, p platform.Platform) (lookup.Result, Verdict, string) {
	if ref == "" {
		return lookup.Result{}, Unknown, "no image reference"
	}
	img, ok := j.images[ref]
	if !ok {
		return lookup.Result{Ref: ref}, Unknown, "image was not looked up"
	}
	v, reason := JudgeImage(img, p)
	if why, bad := j.bins[ref]; bad && v == Supported && p == j.target {
		return img, Unsupported, fmt.Sprintf("claims %s, but its binaries are not (archway verify: %s)", p, why)
	}
	return img, v, reason
}

func assessContainer(c workload.Container, j judger, target platform.Platform) ContainerResult {
	cr := ContainerResult{Container: c, Platform: target, Build: !Counted(c.Kind)}
	if !c.Platform.IsZero() {
		cr.Platform, cr.Pinned = platform.Normalize(c.Platform), true
	}
	jd := j.judgeOnce(c.Image, cr.Platform)
	img := jd.img
	cr.Verdict, cr.Reason = jd.verdict, jd.reason
	cr.Digest, cr.Platforms = img.Digest, jd.platforms
	if img.Err != nil {
		cr.Err, cr.Cause = img.Err, lookup.CauseOf(img.Err)
		cr.Platforms = platform.Set{}
	}
	switch {
	case c.UnreadPlatform != "":
		cr.Verdict = Unknown
		cr.Reason = fmt.Sprintf("pinned by its source to %q, a platform archway does not know", c.UnreadPlatform)
	case cr.Pinned && cr.Platform.Architecture == "wasm":
		cr.Reason += " (pinned to " + cr.Platform.String() + " by its source: WebAssembly, run by a wasm runtime on any host architecture)"
	case cr.Pinned && cr.Platform.OS != target.OS:
		cr.Verdict = Unsupported
		cr.Reason = fmt.Sprintf("pinned to %s by its source: not a %s platform, so not for %s nodes", cr.Platform, target.OS, target)
	case cr.Pinned:
		cr.Reason += " (pinned to " + cr.Platform.String() + " by its source)"
	}
	if cr.Build {
		cr.Reason += " (build stage: runs on the build host, not counted)"
	}
	return cr
}

func assessWorkload(w workload.Workload, j judger, target platform.Platform) WorkloadResult {
	wr := WorkloadResult{Workload: w}
	counted := 0
	var notReady, unknown []string
	allKnown := true
	var archs []string
	for _, c := range w.Containers {
		cr := assessContainer(c, j, target)
		wr.Containers = append(wr.Containers, cr)
		if cr.Build {
			continue
		}
		counted++
		line := func() string { return fmt.Sprintf("%s %s (%s): %s", c.Kind, c.Name, c.Image, cr.Reason) }
		switch cr.Verdict {
		case Unsupported:
			notReady = append(notReady, line())
		case Unknown:
			unknown = append(unknown, line())
		}
		if cr.Platforms.Len() == 0 {
			allKnown = false
		} else if counted == 1 {
			archs = cr.Platforms.Architectures()
		} else {
			archs = intersect(archs, cr.Platforms.Architectures())
		}
		if cr.Pinned {
			wr.Pinned = true
			wr.PinnedArchitectures = addSorted(wr.PinnedArchitectures, cr.Platform.Architecture)
		}
	}
	switch {
	case len(notReady) > 0:
		wr.Verdict = NotReady
	case len(unknown) > 0:
		wr.Verdict = Unknown
	case counted == 0 && len(w.Containers) == 0:
		wr.Verdict = Unknown
		wr.Reasons = append(wr.Reasons, "no containers found")
	default:
		wr.Verdict = Ready
		if counted == 0 {
			wr.Reasons = append(wr.Reasons, "only build stages, which run on the build host")
		}
	}
	wr.Reasons = append(wr.Reasons, notReady...)
	wr.Reasons = append(wr.Reasons, unknown...)
	if allKnown && counted > 0 {
		wr.Architectures = archs
		if wr.Architectures == nil {
			wr.Architectures = []string{}
		}
	}

	if w.PinnedArchitectures != nil {
		wr.Pinned = true
		for _, a := range w.PinnedArchitectures {
			wr.PinnedArchitectures = addSorted(wr.PinnedArchitectures, a)
		}
		if len(w.PinnedArchitectures) == 0 {
			wr.Reasons = append(wr.Reasons, "pinned to no architecture: no node can run it")
		} else {
			wr.Reasons = append(wr.Reasons, "pinned to "+workload.ArchLabel+" in ["+strings.Join(w.PinnedArchitectures, ", ")+"]")
			wr.Reasons = append(wr.Reasons, pinConflicts(w.PinnedArchitectures, wr.Containers, target)...)
		}
	}
	if wr.Pinned && !slices.Contains(wr.PinnedArchitectures, target.Architecture) && everySupports(wr.Containers, target) {
		wr.CouldMove = true
		pin := strings.Join(wr.PinnedArchitectures, ", ")
		if pin == "" {
			pin = "no architecture"
		}
		wr.Reasons = append(wr.Reasons, fmt.Sprintf("pinned to %s, but every image also supports %s: could move to %s",
			pin, target, target.Architecture))
	}
	prove(&wr, target)
	return wr
}

// pinConflicts reports the counted, unpinned containers whose known image
// does not support an architecture the workload is pinned to.
func pinConflicts(pins []string, crs []ContainerResult, target platform.Platform) []string {
	var out []string
	for _, a := range pins {
		p := platform.Platform{OS: target.OS, Architecture: a}
		for _, cr := range crs {
			if cr.Build || cr.Pinned || cr.Platforms.Len() == 0 || cr.Platforms.Supports(p) {
				continue
			}
			out = append(out, fmt.Sprintf("pinned to %s, but %s %s (%s) lacks %s", a, cr.Container.Kind, cr.Container.Name, cr.Container.Image, p))
		}
	}
	return out
}

// everySupports reports whether every counted container's image is known
// to support target; false when there are none.
func everySupports(crs []ContainerResult, target platform.Platform) bool {
	n := 0
	for _, cr := range crs {
		if cr.Build {
			continue
		}
		n++
		if !cr.Platforms.Supports(target) {
			return false
		}
	}
	return n > 0
}

func imageVerdicts(wrs []WorkloadResult, j judger, target platform.Platform) []ImageVerdict {
	byRef := map[string]*ImageVerdict{}
	listed := map[string]map[string]bool{} // by image, the workloads listed: linear in workloads
	for _, wr := range wrs {
		for _, cr := range wr.Containers {
			ref := cr.Container.Image
			if ref == "" {
				continue
			}
			iv, ok := byRef[ref]
			if !ok {
				img, v, reason := j.judge(ref, target)
				iv = &ImageVerdict{Result: img, Verdict: v, Reason: reason, BuildOnly: true}
				byRef[ref] = iv
				listed[ref] = map[string]bool{}
			}
			if !cr.Build {
				iv.BuildOnly = false
			}
			if id := wr.Workload.ID(); !listed[ref][id] {
				listed[ref][id] = true
				iv.Workloads = append(iv.Workloads, id)
			}
		}
	}
	out := make([]ImageVerdict, 0, len(byRef))
	for _, iv := range byRef {
		out = append(out, *iv)
	}
	slices.SortFunc(out, func(a, b ImageVerdict) int { return cmp.Compare(a.Ref, b.Ref) })
	return out
}

func intersect(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func addSorted(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	s = append(s, v)
	slices.Sort(s)
	return s
}
