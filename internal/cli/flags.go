package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/render"
	"github.com/archwaydev/archway/internal/report"
	"github.com/archwaydev/archway/internal/source/cluster"
)

// The flag groups commands share, each defined and validated once:
// registry access (registryflags.go), placement, Kubernetes access,
// render bounds and output.

// placementFlags say what placement to write (place, webhook, webhook
// manifests).
type placementFlags struct {
	clusterArchs string
	armTaint     string
	prefer       string
	style        string
}

func addPlacementFlags(fs *pflag.FlagSet, p *placementFlags) {
	fs.StringVar(&p.clusterArchs, "cluster-archs", "amd64,arm64", "architectures of the cluster's nodes, comma-separated")
	fs.StringVar(&p.armTaint, "arm-taint", "", "taint on the arm64 nodes, `KEY=VALUE:EFFECT` (e.g. "+placement.DefaultArmTaint+"): pods whose images all run on arm64 get its toleration")
	fs.StringVar(&p.prefer, "prefer", "", "preferred-affinity weights per architecture, e.g. arm64=80")
	fs.StringVar(&p.style, "style", "affinity", "how a required architecture is written: affinity or node-selector (node-selector when one architecture)")
}

// options validates the flags and turns them into placement options.
func (p placementFlags) options() (placement.Options, error) {
	var o placement.Options
	for _, a := range strings.Split(p.clusterArchs, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		pl, err := platform.Parse("linux/" + a)
		if err != nil || pl.IsUnknown() {
			return o, fmt.Errorf("--cluster-archs: %q is not a CPU architecture (want e.g. amd64,arm64)", a)
		}
		o.ClusterArchs = append(o.ClusterArchs, pl.Architecture)
	}
	if len(o.ClusterArchs) == 0 {
		return o, errors.New("--cluster-archs must name at least one architecture")
	}
	var err error
	if p.armTaint != "" {
		if o.ArmTaint, err = placement.ParseTaint(p.armTaint); err != nil {
			return o, fmt.Errorf("--arm-taint %q: %w", p.armTaint, err)
		}
	}
	if p.prefer != "" {
		if o.Prefer, err = placement.ParsePrefer(p.prefer); err != nil {
			return o, fmt.Errorf("--prefer: %w", err)
		}
	}
	if o.Style, err = placement.ParseStyle(p.style); err != nil {
		return o, fmt.Errorf("--style: %w", err)
	}
	return o, nil
}

// kubeFlags say how to reach a cluster; they mean what kubectl's flags of
// the same names mean.
type kubeFlags struct {
	enabled       bool
	kubeconfig    string
	context       string
	namespace     string
	allNamespaces bool
}

func addKubeFlags(fs *pflag.FlagSet, c *kubeFlags) {
	fs.BoolVar(&c.enabled, "cluster", false, "also scan the workloads running in a cluster (kubeconfig found as kubectl finds it) and count its nodes")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` for --cluster (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&c.context, "context", "", "kubeconfig `CONTEXT` for --cluster (default: the current context)")
	fs.StringVarP(&c.namespace, "namespace", "n", "", "`NAMESPACE` to read with --cluster (default: the context's), and Helm's .Release.Namespace")
	fs.BoolVarP(&c.allNamespaces, "all-namespaces", "A", false, "read every namespace with --cluster")
}

func (c kubeFlags) validate() error {
	switch {
	case c.allNamespaces && c.namespace != "":
		return errors.New("-A/--all-namespaces and -n/--namespace exclude each other")
	case !c.enabled && (c.kubeconfig != "" || c.context != "" || c.allNamespaces):
		return errors.New("--kubeconfig, --context and -A only apply with --cluster")
	}
	return nil
}

// config is the cluster to read; nil without --cluster.
func (c kubeFlags) config() *cluster.Config {
	if !c.enabled {
		return nil
	}
	return &cluster.Config{Kubeconfig: c.kubeconfig, Context: c.context, Namespace: c.namespace, AllNamespaces: c.allNamespaces}
}

// renderFlags bound each chart render and kustomize build, which run in a
// child process (package render): scan, place.
type renderFlags struct {
	timeout     time.Duration
	memory      string
	allowRemote bool
}

func addRenderFlags(fs *pflag.FlagSet, r *renderFlags) {
	fs.DurationVar(&r.timeout, "render-timeout", render.DefaultTimeout, "how long one chart render or kustomize build may take; past it, that input fails and the rest go on")
	fs.StringVar(&r.memory, "render-memory", "1Gi", "memory `SIZE` one chart render or kustomize build may use (e.g. 512Mi, 2Gi); past it, that input fails and the rest go on")
	fs.BoolVar(&r.allowRemote, "allow-remote", false, fmt.Sprintf("let kustomize fetch the remote resources, bases and components a kustomization names (http(s) URLs, git repositories), each file at most %d MiB, within --render-timeout (default: such a kustomization fails, nothing fetched)", render.MaxRemoteBody>>20))
}

// limits are the render bounds the flags give.
func (r renderFlags) limits() (render.Limits, error) {
	if r.timeout <= 0 {
		return render.Limits{}, fmt.Errorf("--render-timeout %s: want a positive duration", r.timeout)
	}
	q, err := resource.ParseQuantity(r.memory)
	if err != nil || q.Value() < 64<<20 {
		return render.Limits{}, fmt.Errorf("--render-memory %q: want a size of at least 64Mi, such as 512Mi or 2Gi", r.memory)
	}
	return render.Limits{Timeout: r.timeout, Memory: q.Value()}, nil
}

// outputFormat resolves -o among allowed formats: the flag, else file's
// extension (when file is given), else table on a terminal and JSON
// otherwise.
func outputFormat(flag, file string, stdout io.Writer, allowed ...report.Format) (report.Format, error) {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	want := strings.Join(names, ", ")
	if n := len(names); n > 1 {
		want = strings.Join(names[:n-1], ", ") + " or " + names[n-1]
	}
	f := report.Table
	switch {
	case flag != "":
		var err error
		if f, err = report.ParseFormat(flag); err != nil {
			return "", fmt.Errorf("-o %q: want %s", flag, want)
		}
	case file != "":
		f = formatOfFile(file)
	case !isTerminal(stdout):
		f = report.JSON
	}
	for _, a := range allowed {
		if f == a {
			return f, nil
		}
	}
	return "", fmt.Errorf("-o %q: want %s", f, want)
}

// formatOfFile is the format a report file's extension names; JSON when
// it names none.
func formatOfFile(file string) report.Format {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".md", ".markdown":
		return report.Markdown
	case ".html", ".htm":
		return report.HTML
	case ".sarif":
		return report.SARIF
	case ".txt":
		return report.Table
	}
	return report.JSON
}

// parseTargets reads the --platform list. A bare "arm" is refused: it
// would silently mean arm/v7, and who writes it often means arm64.
func parseTargets(s string) ([]platform.Platform, error) {
	for _, part := range strings.Split(s, ",") {
		if f := strings.Split(strings.ToLower(strings.TrimSpace(part)), "/"); f[len(f)-1] == "arm" {
			return nil, fmt.Errorf("--platform %q: %q is ambiguous: write linux/arm64 (64-bit), linux/arm/v7 or linux/arm/v6 (32-bit)", s, strings.TrimSpace(part))
		}
	}
	ps, err := platform.ParseList(s)
	if err != nil {
		return nil, fmt.Errorf("--platform %q: %w", s, err)
	}
	for _, p := range ps {
		if p.IsUnknown() {
			return nil, fmt.Errorf("--platform %q: %s is not a platform an image can run on", s, p)
		}
	}
	return ps, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// colorOK reports whether colour may be written to w: a terminal, with
// neither NO_COLOR set nor TERM=dumb.
func colorOK(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
