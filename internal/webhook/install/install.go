package install

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"

	archwaychart "github.com/archwaydev/archway/deploy/charts/archway"
	"github.com/archwaydev/archway/internal/certs"
	"github.com/archwaydev/archway/internal/webhook"
)

// Render renders the chart for release name in namespace with values, as
// `helm template` does (Helm SDK engine, client-only): YAML documents
// separated by "---", in Helm's install order, each headed by a
// "# Source:" comment.
func Render(name, namespace string, values map[string]any) (string, error) {
	chrt, err := archwaychart.Load()
	if err != nil {
		return "", err
	}
	if err := chartutil.ProcessDependenciesWithMerge(chrt, values); err != nil {
		return "", fmt.Errorf("render chart: %w", err)
	}
	vals, err := chartutil.ToRenderValues(chrt, values, chartutil.ReleaseOptions{
		Name: name, Namespace: namespace, Revision: 1, IsInstall: true,
	}, chartutil.DefaultCapabilities)
	if err != nil {
		return "", fmt.Errorf("render chart: %w", err)
	}
	files, err := engine.Render(chrt, vals)
	if err != nil {
		return "", fmt.Errorf("render chart: %w", err)
	}
	for path := range files {
		if strings.HasSuffix(path, "NOTES.txt") {
			delete(files, path)
		}
	}
	_, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return "", fmt.Errorf("render chart: %w", err)
	}
	var b strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Name, strings.TrimSpace(m.Content))
	}
	return b.String(), nil
}

// Options describe a self-contained install.
type Options struct {
	// Namespace is created and holds everything; default "archway".
	Namespace string
	// Image is the archway image reference; default the chart's.
	Image string
	// Values are further chart values (mode, armTaint, prefer, ...),
	// merged under the ones Manifests sets.
	Values map[string]any
	// CertManager leaves the certificate to cert-manager (which must be
	// installed) instead of generating one.
	CertManager bool
	// CertValidity is how long the generated certificates last; default 10 years.
	CertValidity time.Duration
	// Now is the certificates' start time; default time.Now().
	Now time.Time
}

// ReleaseName is the release name of the self-contained install, and so
// the name of its objects.
const ReleaseName = "archway"

// Manifests returns the self-contained install: the Namespace (labelled so
// the webhook ignores it) followed by the rendered chart with a Secret
// holding a newly generated CA-signed serving certificate whose CA is the
// webhook configuration's caBundle (or, with CertManager, a cert-manager
// Certificate and CA injection).
func Manifests(opts Options) (string, error) {
	if opts.Namespace == "" {
		opts.Namespace = "archway"
	}
	if opts.CertValidity <= 0 {
		opts.CertValidity = 10 * 365 * 24 * time.Hour
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	values := map[string]any{}
	for k, v := range opts.Values {
		values[k] = v
	}
	if opts.CertManager {
		values["certManager"] = map[string]any{"enabled": true}
	} else {
		svc := ReleaseName + "." + opts.Namespace + ".svc"
		serving, err := certs.NewServing("archway-webhook-ca", []string{svc, svc + ".cluster.local"}, opts.Now, opts.CertValidity)
		if err != nil {
			return "", err
		}
		values["tls"] = map[string]any{
			"crt":      string(serving.CertPEM),
			"key":      string(serving.KeyPEM),
			"caBundle": string(serving.CAPEM),
		}
		values["certManager"] = map[string]any{"enabled": false}
	}
	if opts.Image != "" {
		repo, tag, err := splitImage(opts.Image)
		if err != nil {
			return "", err
		}
		values["image"] = map[string]any{"repository": repo, "tag": tag}
	}
	rendered, err := Render(ReleaseName, opts.Namespace, values)
	if err != nil {
		return "", err
	}
	ns := map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]any{
			"name":   opts.Namespace,
			"labels": map[string]string{webhook.AnnotationKey: webhook.AnnotationDisabled},
		},
	}
	nsYAML, err := yaml.Marshal(ns)
	if err != nil {
		return "", fmt.Errorf("encode namespace: %w", err)
	}
	return "---\n" + string(nsYAML) + rendered, nil
}

// splitImage splits "repo[:tag]" (a digest is kept in the tag part).
func splitImage(img string) (repo, tag string, err error) {
	if img == "" || strings.ContainsAny(img, " \t\n") {
		return "", "", fmt.Errorf("image %q: not a reference", img)
	}
	if i := strings.Index(img, "@"); i >= 0 {
		return "", "", errors.New("image " + img + ": digests are not supported; use repo:tag")
	}
	slash := strings.LastIndex(img, "/")
	if colon := strings.LastIndex(img, ":"); colon > slash {
		return img[:colon], img[colon+1:], nil
	}
	return img, "latest", nil
}
