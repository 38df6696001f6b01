package helm

import (
	"fmt"
	"runtime/debug"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
)

// clientGo is the module whose version names the Kubernetes release
// archway is built against: client-go v0.X.Y goes with Kubernetes v1.X.Y.
const clientGo = "k8s.io/client-go"

// builtKubeVersion is DefaultKubeVersion for a binary without dependency
// information (a test binary): the Kubernetes minor of go.mod's client-go,
// which a test keeps true.
const builtKubeVersion = "v1.37.0"

// kubeModules are client-go and the modules released with it at the same
// version, in the order to trust them: a binary that does not link
// client-go (a test of this package) still links k8s.io/apimachinery.
var kubeModules = []string{clientGo, "k8s.io/api", "k8s.io/apimachinery"}

// DefaultKubeVersion is the Kubernetes version charts are rendered for
// when Options.KubeVersion is empty: the minor of the client-go archway
// links (v1.X.0 for client-go v0.X.Y), read from the binary's build
// information (k8s.io/api or k8s.io/apimachinery, released with it, when
// client-go is not linked), or else builtKubeVersion.
func DefaultKubeVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return builtKubeVersion
	}
	for _, m := range kubeModules {
		for _, d := range info.Deps {
			if d.Path != m {
				continue
			}
			if d.Replace != nil {
				d = d.Replace
			}
			if v, ok := kubeVersionOf(d.Version); ok {
				return v
			}
		}
	}
	return builtKubeVersion
}

// kubeVersionOf maps a client-go module version (v0.X.Y) to the Kubernetes
// minor it belongs to (v1.X.0).
func kubeVersionOf(clientGoVersion string) (string, bool) {
	rest, ok := strings.CutPrefix(clientGoVersion, "v0.")
	minor, _, _ := strings.Cut(rest, ".")
	if !ok || minor == "" || strings.Trim(minor, "0123456789") != "" {
		return "", false
	}
	return "v1." + minor + ".0", true
}

// capabilities are what templates see as .Capabilities: Helm's defaults,
// the Kubernetes version of opts (or DefaultKubeVersion) and the extra API
// versions of opts.
func capabilities(opts Options) (*chartutil.Capabilities, error) {
	caps := chartutil.DefaultCapabilities.Copy()
	v := opts.KubeVersion
	if v == "" {
		v = DefaultKubeVersion()
	}
	kv, err := chartutil.ParseKubeVersion(v)
	if err != nil {
		return nil, fmt.Errorf("kube version %q: %w", v, err)
	}
	caps.KubeVersion = *kv
	if len(opts.APIVersions) > 0 {
		caps.APIVersions = append(append(chartutil.VersionSet(nil), caps.APIVersions...), opts.APIVersions...)
	}
	return caps, nil
}
