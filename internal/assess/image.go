package assess

import (
	"fmt"
	"strings"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
)

// JudgeImage gives an image's verdict against every target: Unknown when
// the lookup failed or found no platforms, Unsupported when the registry
// served an index of artifacts only (NoRunnablePlatform), Supported when every target is
// satisfied (platform.Set.Supports: a variant in a target is the node's
// level), else Unsupported. The reason says why in one line. check, scan,
// advise and place all judge an image through this function.
func JudgeImage(r lookup.Result, targets ...platform.Platform) (Verdict, string) {
	if r.Err != nil {
		// Registry errors start with the reference, which is said already.
		return Unknown, "lookup failed: " + strings.TrimPrefix(r.Err.Error(), r.Ref+": ")
	}
	if r.NoRunnable {
		return Unsupported, NoRunnablePlatform
	}
	set := r.Platforms()
	if set.Len() == 0 {
		return Unknown, "the registry reported no platforms"
	}
	var missing []string
	for _, t := range targets {
		if !set.Supports(t) {
			missing = append(missing, t.String())
		}
	}
	if len(missing) > 0 {
		return Unsupported, fmt.Sprintf("lacks %s; supports %s", strings.Join(missing, ", "), set)
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.String()
	}
	return Supported, "supports " + strings.Join(names, ", ")
}

// NoRunnablePlatform is the cause and reason of an image whose index lists
// only attestations, signatures or other artifacts: it runs nowhere.
const NoRunnablePlatform = "no runnable platform in index"

// ImageCheck is the verdict of one image looked up on its own (archway
// check), against one or more targets.
type ImageCheck struct {
	// Result is what the registry said.
	lookup.Result
	// Verdict is Supported, Unsupported or Unknown.
	Verdict Verdict
	// Cause is short: the lookup's cause when unknown ("unauthorized",
	// "no platforms"), the missing targets when unsupported ("no
	// linux/arm64"); empty when supported.
	Cause string
	// Reason is JudgeImage's one line.
	Reason string
}

// CheckReport is the outcome of checking images against targets.
type CheckReport struct {
	// Targets are the platforms every image must support.
	Targets []platform.Platform
	// Images are the verdicts, in the order the images were given.
	Images []ImageCheck
	// Summary counts the verdicts (Ready = supported, NotReady =
	// unsupported).
	Summary Counts
}

// Check judges each lookup result against every target.
func Check(results []lookup.Result, targets ...platform.Platform) CheckReport {
	rep := CheckReport{Targets: targets, Images: make([]ImageCheck, len(results))}
	for i, r := range results {
		v, reason := JudgeImage(r, targets...)
		ic := ImageCheck{Result: r, Verdict: v, Reason: reason}
		switch {
		case r.Err != nil:
			ic.Cause = string(lookup.CauseOf(r.Err))
		case r.NoRunnable:
			ic.Cause = NoRunnablePlatform
		case v == Unknown:
			ic.Cause = "no platforms"
		case v == Unsupported:
			var missing []string
			for _, t := range targets {
				if !r.Platforms().Supports(t) {
					missing = append(missing, t.String())
				}
			}
			ic.Cause = "no " + strings.Join(missing, ", no ")
		}
		rep.Images[i] = ic
		rep.Summary.add(v)
	}
	return rep
}
