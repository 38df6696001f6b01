package placement

import (
	"fmt"
	"strings"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
)

// ComposePlatform decides the `platform:` of a compose service whose one
// image is img and whose current platform is pin (zero when none): the
// image's only linux platform when it has exactly one, so the service runs
// (emulated, or failing clearly) the same on every host; nothing when it
// has several (the engine picks the host's) or the service is pinned to
// one the image supports. finding says why nothing can be set.
func ComposePlatform(ref string, img lookup.Result, pin platform.Platform) (set platform.Platform, finding string) {
	var linux []platform.Platform
	for _, p := range img.Platforms().List() {
		if p.OS == "linux" {
			linux = append(linux, p)
		}
	}
	supported := platform.NewSet(linux...)
	switch {
	case !pin.IsZero():
		if !supported.Supports(pin) {
			return platform.Platform{}, fmt.Sprintf("platform: %s, but image %s supports %s: left as is", pin, ref, supported)
		}
	case len(linux) == 0:
		return platform.Platform{}, fmt.Sprintf("image %s has no linux platform", ref)
	case len(linux) == 1:
		return linux[0], ""
	}
	return platform.Platform{}, ""
}

// ECSArchitectures maps a target architecture to an ECS task definition's
// runtimePlatform.cpuArchitecture.
var ECSArchitectures = map[string]string{"arm64": "ARM64", "amd64": "X86_64"}

// ECSRuntime decides the runtimePlatform.cpuArchitecture of an ECS task
// definition for target, given its images (refs, looked up in images) and
// its current operatingSystemFamily: the target's architecture when every
// image supports it on Linux; otherwise nothing, and finding says why.
// target must be linux/arm64 or linux/amd64.
func ECSRuntime(target platform.Platform, refs []string, images map[string]lookup.Result, osFamily string) (cpu, finding string, err error) {
	target = platform.Normalize(target)
	want, ok := ECSArchitectures[target.Architecture]
	if !ok || target.OS != "linux" {
		return "", "", fmt.Errorf("ecs: target platform %s: want linux/arm64 or linux/amd64", target)
	}
	var missing []string
	for _, ref := range refs {
		if !images[ref].Platforms().Supports(target) {
			missing = append(missing, ref)
		}
	}
	switch {
	case len(missing) > 0:
		return "", fmt.Sprintf("not every image supports %s (%s): cpuArchitecture left as is", target, strings.Join(missing, ", ")), nil
	case osFamily != "" && osFamily != "LINUX":
		return "", fmt.Sprintf("operatingSystemFamily is %s, not LINUX: left as is", osFamily), nil
	}
	return want, "", nil
}
