package install_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/archwaydev/archway/internal/webhook/install"
)

// constructors make the typed object for each apiVersion and kind the
// chart renders.
var constructors = map[string]func() any{
	"v1 Namespace":                  func() any { return &corev1.Namespace{} },
	"v1 ServiceAccount":             func() any { return &corev1.ServiceAccount{} },
	"v1 Secret":                     func() any { return &corev1.Secret{} },
	"v1 Service":                    func() any { return &corev1.Service{} },
	"apps/v1 Deployment":            func() any { return &appsv1.Deployment{} },
	"policy/v1 PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
	"rbac.authorization.k8s.io/v1 ClusterRole":        func() any { return &rbacv1.ClusterRole{} },
	"rbac.authorization.k8s.io/v1 ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
	"rbac.authorization.k8s.io/v1 Role":               func() any { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1 RoleBinding":        func() any { return &rbacv1.RoleBinding{} },
	"admissionregistration.k8s.io/v1 MutatingWebhookConfiguration": func() any {
		return &admissionregistrationv1.MutatingWebhookConfiguration{}
	},
}

// objects are the decoded documents, in order.
type objects struct {
	kinds   []string
	typed   []any
	certMgr []map[string]any // cert-manager objects, whose Go types archway does not import
}

// of returns the objects of type T, in order.
func of[T any](o *objects) []T {
	var out []T
	for _, x := range o.typed {
		if v, ok := x.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// decode decodes every YAML document strictly into its typed struct
// (unknown fields fail).
func decode(t *testing.T, manifest string) *objects {
	t.Helper()
	var o objects
	for _, doc := range strings.Split(manifest, "\n---\n") {
		doc = strings.TrimPrefix(doc, "---\n")
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("decode type: %v\n%s", err, doc)
		}
		o.kinds = append(o.kinds, tm.Kind)
		if tm.APIVersion == "cert-manager.io/v1" {
			v := map[string]any{}
			if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
				t.Fatalf("decode %s: %v", tm.Kind, err)
			}
			o.certMgr = append(o.certMgr, v)
			continue
		}
		newObj, ok := constructors[tm.APIVersion+" "+tm.Kind]
		if !ok {
			t.Fatalf("unexpected object %s %s", tm.APIVersion, tm.Kind)
		}
		obj := newObj()
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("strict decode %s: %v\n%s", tm.Kind, err, doc)
		}
		o.typed = append(o.typed, obj)
	}
	return &o
}

func TestManifestsSelfContained(t *testing.T) {
	manifest, err := install.Manifests(install.Options{
		Namespace: "placement",
		Image:     "registry.example.test/archway:1.2.3",
		Values:    map[string]any{"armTaint": "arm=true:NoSchedule", "mode": "audit"},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, manifest)
	want := []string{"Namespace", "PodDisruptionBudget", "ServiceAccount", "Secret", "ClusterRole", "ClusterRoleBinding", "Service", "Deployment", "MutatingWebhookConfiguration"}
	if diff := cmp.Diff(want, o.kinds); diff != "" {
		t.Fatalf("kinds (-want +got):\n%s", diff)
	}
	if got := of[*corev1.Namespace](o)[0]; got.Name != "placement" || got.Labels["archway.dev/placement"] != "disabled" {
		t.Errorf("namespace %s labels %v", got.Name, got.Labels)
	}

	// The Secret's certificate is signed by the caBundle's CA for the Service's name.
	sec := of[*corev1.Secret](o)[0]
	if sec.Type != corev1.SecretTypeTLS || sec.Namespace != "placement" {
		t.Errorf("secret type %s namespace %s", sec.Type, sec.Namespace)
	}
	if _, err := tls.X509KeyPair(sec.Data["tls.crt"], sec.Data["tls.key"]); err != nil {
		t.Fatalf("secret key pair: %v", err)
	}
	hook := of[*admissionregistrationv1.MutatingWebhookConfiguration](o)[0]
	if len(hook.Webhooks) != 1 {
		t.Fatalf("%d webhooks", len(hook.Webhooks))
	}
	wh := hook.Webhooks[0]
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(wh.ClientConfig.CABundle) {
		t.Fatalf("caBundle is not PEM: %q", wh.ClientConfig.CABundle)
	}
	block, _ := pem.Decode(sec.Data["tls.crt"])
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "archway.placement.svc", CurrentTime: time.Now()}); err != nil {
		t.Errorf("serving certificate does not verify against caBundle: %v", err)
	}

	// The webhook configuration fails open and skips what it must.
	if *wh.FailurePolicy != admissionregistrationv1.Ignore || *wh.SideEffects != admissionregistrationv1.SideEffectClassNone || *wh.TimeoutSeconds != 5 {
		t.Errorf("failurePolicy %v sideEffects %v timeout %v", *wh.FailurePolicy, *wh.SideEffects, *wh.TimeoutSeconds)
	}
	if diff := cmp.Diff([]string{"v1"}, wh.AdmissionReviewVersions); diff != "" {
		t.Errorf("admissionReviewVersions: %s", diff)
	}
	svc := wh.ClientConfig.Service
	if svc == nil || svc.Name != "archway" || svc.Namespace != "placement" || *svc.Path != "/mutate" {
		t.Errorf("service ref %+v", svc)
	}
	rule := wh.Rules[0]
	if diff := cmp.Diff([]admissionregistrationv1.OperationType{admissionregistrationv1.Create}, rule.Operations); diff != "" || !slices.Equal(rule.Resources, []string{"pods"}) {
		t.Errorf("rule %+v", rule)
	}
	wantNS := []metav1.LabelSelectorRequirement{
		{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"placement", "kube-system"}},
		{Key: "archway.dev/placement", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"disabled"}},
	}
	if diff := cmp.Diff(wantNS, wh.NamespaceSelector.MatchExpressions); diff != "" {
		t.Errorf("namespaceSelector (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantNS[1:], wh.ObjectSelector.MatchExpressions); diff != "" {
		t.Errorf("objectSelector (-want +got):\n%s", diff)
	}

	// The Deployment runs two hardened replicas of the given image.
	d := of[*appsv1.Deployment](o)[0]
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d", *d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Image != "registry.example.test/archway:1.2.3" {
		t.Errorf("image %s", c.Image)
	}
	if pod.SecurityContext == nil || !*pod.SecurityContext.RunAsNonRoot || !*c.SecurityContext.ReadOnlyRootFilesystem || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("security context %+v %+v", pod.SecurityContext, c.SecurityContext)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("resource requests %v", c.Resources.Requests)
	}
	for _, arg := range []string{"webhook", "--mode=audit", "--arm-taint=arm=true:NoSchedule", "--tls-cert-file=/etc/archway/tls/tls.crt", "--budget=2s"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	if pod.ServiceAccountName != of[*corev1.ServiceAccount](o)[0].Name || pod.Volumes[0].Secret.SecretName != sec.Name {
		t.Errorf("service account %s volume %+v", pod.ServiceAccountName, pod.Volumes[0])
	}
	if d.Spec.Template.Labels["archway.dev/placement"] != "disabled" {
		t.Error("the webhook's own pods are not opted out")
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes %+v %+v", c.ReadinessProbe, c.LivenessProbe)
	}
	if got := of[*policyv1.PodDisruptionBudget](o)[0].Spec.MinAvailable.IntValue(); got != 1 {
		t.Errorf("pdb minAvailable %d", got)
	}
	if diff := cmp.Diff(d.Spec.Selector.MatchLabels, of[*corev1.Service](o)[0].Spec.Selector); diff != "" {
		t.Errorf("service selector != deployment selector: %s", diff)
	}

	// RBAC: list pods (warm start), get secrets and serviceaccounts (pull
	// secrets), bound to the webhook's account.
	wantRules := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}},
		{APIGroups: []string{""}, Resources: []string{"secrets", "serviceaccounts"}, Verbs: []string{"get"}},
	}
	if diff := cmp.Diff(wantRules, of[*rbacv1.ClusterRole](o)[0].Rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if s := of[*rbacv1.ClusterRoleBinding](o)[0].Subjects[0]; s.Name != of[*corev1.ServiceAccount](o)[0].Name || s.Namespace != "placement" {
		t.Errorf("binding subject %+v", s)
	}
}

func TestChart(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		values    map[string]any
		wantErr   string
		check     func(t *testing.T, o *objects)
	}{
		{
			name:      "cert-manager issues the certificate and injects the CA",
			namespace: "tools",
			values:    map[string]any{"certManager": map[string]any{"enabled": true}},
			check: func(t *testing.T, o *objects) {
				if len(of[*corev1.Secret](o)) != 0 || len(o.certMgr) != 2 {
					t.Fatalf("%d secrets, %d cert-manager objects", len(of[*corev1.Secret](o)), len(o.certMgr))
				}
				i := slices.IndexFunc(o.certMgr, func(m map[string]any) bool { return m["kind"] == "Certificate" })
				if i < 0 {
					t.Fatal("no Certificate")
				}
				cert := o.certMgr[i]
				spec := cert["spec"].(map[string]any)
				if cert["kind"] != "Certificate" || spec["secretName"] != "rel-archway-tls" ||
					!slices.Contains(spec["dnsNames"].([]any), any("rel-archway.tools.svc")) {
					t.Errorf("certificate %v", cert)
				}
				hook := of[*admissionregistrationv1.MutatingWebhookConfiguration](o)[0]
				if hook.Annotations["cert-manager.io/inject-ca-from"] != "tools/rel-archway" || hook.Webhooks[0].ClientConfig.CABundle != nil {
					t.Errorf("annotations %v caBundle %q", hook.Annotations, hook.Webhooks[0].ClientConfig.CABundle)
				}
				if of[*appsv1.Deployment](o)[0].Spec.Template.Spec.Volumes[0].Secret.SecretName != "rel-archway-tls" {
					t.Errorf("volume %+v", of[*appsv1.Deployment](o)[0].Spec.Template.Spec.Volumes[0])
				}
			},
		},
		{
			name:      "pre-created secret",
			namespace: "tools",
			values: map[string]any{
				"tls":                map[string]any{"existingSecret": "my-tls", "caBundle": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
				"excludeNamespaces":  []any{"kube-system", "monitoring"},
				"insecureRegistries": []any{"registry.local:5000", "mirror.local"},
			},
			check: func(t *testing.T, o *objects) {
				args := of[*appsv1.Deployment](o)[0].Spec.Template.Spec.Containers[0].Args
				for _, want := range []string{"--insecure-registry=registry.local:5000", "--insecure-registry=mirror.local"} {
					if !slices.Contains(args, want) {
						t.Errorf("args %v lack %s", args, want)
					}
				}
				if len(of[*corev1.Secret](o)) != 0 || len(o.certMgr) != 0 {
					t.Fatalf("%d secrets, %d cert-manager objects", len(of[*corev1.Secret](o)), len(o.certMgr))
				}
				if of[*appsv1.Deployment](o)[0].Spec.Template.Spec.Volumes[0].Secret.SecretName != "my-tls" {
					t.Errorf("volume %+v", of[*appsv1.Deployment](o)[0].Spec.Template.Spec.Volumes[0])
				}
				wh := of[*admissionregistrationv1.MutatingWebhookConfiguration](o)[0].Webhooks[0]
				if !strings.HasPrefix(string(wh.ClientConfig.CABundle), "-----BEGIN CERTIFICATE-----") {
					t.Errorf("caBundle %q", wh.ClientConfig.CABundle)
				}
				if got := wh.NamespaceSelector.MatchExpressions[0].Values; !slices.Equal(got, []string{"tools", "kube-system", "monitoring"}) {
					t.Errorf("excluded namespaces %v", got)
				}
			},
		},
		{
			name:      "pull secrets disabled: no rule reads a Secret",
			namespace: "tools",
			values:    withTLS(map[string]any{"pullSecrets": map[string]any{"enabled": false}}),
			check: func(t *testing.T, o *objects) {
				if r := secretRules(o); len(r) != 0 {
					t.Errorf("secret rules %v, want none", r)
				}
				if args := of[*appsv1.Deployment](o)[0].Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--pull-secrets=false") {
					t.Errorf("args %v lack --pull-secrets=false", args)
				}
			},
		},
		{
			name:      "pull secrets limited to listed namespaces: Roles there, none cluster-wide",
			namespace: "tools",
			values: withTLS(map[string]any{
				"pullSecrets": map[string]any{"namespaces": []any{"payments", "shop"}},
				"warmStart":   map[string]any{"enabled": false},
			}),
			check: func(t *testing.T, o *objects) {
				if want := []string{"Role payments", "Role shop"}; !slices.Equal(secretRules(o), want) {
					t.Errorf("secret rules %v, want %v", secretRules(o), want)
				}
				if n := len(of[*rbacv1.ClusterRole](o)); n != 0 {
					t.Errorf("%d ClusterRoles, want none", n)
				}
				for _, b := range of[*rbacv1.RoleBinding](o) {
					if b.Subjects[0].Name != "rel-archway" || b.Subjects[0].Namespace != "tools" || b.RoleRef.Kind != "Role" {
						t.Errorf("binding %s/%s %+v %+v", b.Namespace, b.Name, b.Subjects, b.RoleRef)
					}
				}
				if args := of[*appsv1.Deployment](o)[0].Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--warm-start=-1s") {
					t.Errorf("args %v lack --warm-start=-1s", args)
				}
			},
		},
		{
			name:      "hygiene: replicas, spread, priority, security context, reinvocation, match conditions",
			namespace: "tools",
			values:    withTLS(map[string]any{"priorityClassName": "system-cluster-critical"}),
			check: func(t *testing.T, o *objects) {
				d := of[*appsv1.Deployment](o)[0]
				pod := d.Spec.Template.Spec
				if *d.Spec.Replicas < 2 {
					t.Errorf("replicas %d, want ≥ 2", *d.Spec.Replicas)
				}
				if len(of[*policyv1.PodDisruptionBudget](o)) != 1 {
					t.Error("no PodDisruptionBudget")
				}
				if pod.PriorityClassName != "system-cluster-critical" {
					t.Errorf("priorityClassName %q", pod.PriorityClassName)
				}
				var keys []string
				for _, c := range pod.TopologySpreadConstraints {
					keys = append(keys, c.TopologyKey)
				}
				if !slices.Equal(keys, []string{"kubernetes.io/hostname", "topology.kubernetes.io/zone"}) {
					t.Errorf("spread over %v", keys)
				}
				psc, sc := pod.SecurityContext, pod.Containers[0].SecurityContext
				if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("pod security context %+v", psc)
				}
				if !*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation ||
					!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("container security context %+v", sc)
				}
				wh := of[*admissionregistrationv1.MutatingWebhookConfiguration](o)[0].Webhooks[0]
				if wh.ReinvocationPolicy == nil || *wh.ReinvocationPolicy != admissionregistrationv1.IfNeededReinvocationPolicy {
					t.Errorf("reinvocationPolicy %v, want IfNeeded", wh.ReinvocationPolicy)
				}
				if len(wh.MatchConditions) != 1 || !strings.Contains(wh.MatchConditions[0].Expression, "object.metadata.annotations['archway.dev/placement'] == 'disabled'") {
					t.Errorf("matchConditions %+v", wh.MatchConditions)
				}
			},
		},
		{
			name:      "no TLS configured",
			namespace: "tools",
			values:    map[string]any{},
			wantErr:   "set certManager.enabled=true",
		},
		{
			name:      "caBundle without a certificate",
			namespace: "tools",
			values:    map[string]any{"tls": map[string]any{"caBundle": "x"}},
			wantErr:   "set tls.existingSecret or both tls.crt and tls.key",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			manifest, err := install.Render("rel", tc.namespace, tc.values)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, decode(t, manifest))
		})
	}
}

// withTLS adds a pre-created TLS Secret to values.
func withTLS(values map[string]any) map[string]any {
	values["tls"] = map[string]any{"existingSecret": "my-tls", "caBundle": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
	return values
}

// secretRules lists "Kind namespace" of every (Cluster)Role that may read
// Secrets.
func secretRules(o *objects) []string {
	var out []string
	reads := func(rules []rbacv1.PolicyRule) bool {
		return slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool { return slices.Contains(r.Resources, "secrets") })
	}
	for _, r := range of[*rbacv1.ClusterRole](o) {
		if reads(r.Rules) {
			out = append(out, "ClusterRole")
		}
	}
	for _, r := range of[*rbacv1.Role](o) {
		if reads(r.Rules) {
			out = append(out, "Role "+r.Namespace)
		}
	}
	return out
}
