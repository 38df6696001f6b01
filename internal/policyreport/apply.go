package policyreport

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Resource is the API resource of f's namespaced report.
func (f Format) Resource() schema.GroupVersionResource {
	if f == OpenReports {
		return schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "reports"}
	}
	return schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
}

// ErrNoCRD is returned (wrapped) by Apply when the cluster does not serve
// the report API.
var ErrNoCRD = errors.New("the report CRD is not installed")

// Applied says what Apply did.
type Applied struct {
	// Applied and Deleted are the reports written and removed, as
	// namespace/name.
	Applied, Deleted []string
}

// Apply server-side-applies reports (all of format f) with the field
// manager FieldManager, taking the fields over from other managers, then
// deletes the reports of f that archway owns (ManagedByLabel) in
// namespace, or in every namespace when namespace is "", that reports no
// longer holds: a namespace whose workloads are gone, or a part no longer
// needed. A report's results are one list, replaced whole, so results of
// deleted workloads go too.
func Apply(ctx context.Context, dyn dynamic.Interface, f Format, namespace string, reports []*unstructured.Unstructured) (Applied, error) {
	var out Applied
	res := dyn.Resource(f.Resource())
	keep := map[string]bool{}
	for _, r := range reports {
		id := r.GetNamespace() + "/" + r.GetName()
		if _, err := res.Namespace(r.GetNamespace()).Apply(ctx, r.GetName(), r, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
			if apierrors.IsNotFound(err) {
				return out, fmt.Errorf("apply %s %s: %w: %s.%s (Kyverno's and Policy Reporter's charts install it)", f.Kind(), id, ErrNoCRD, f.Resource().Resource, f.Resource().Group)
			}
			return out, fmt.Errorf("apply %s %s: %w", f.Kind(), id, err)
		}
		keep[id] = true
		out.Applied = append(out.Applied, id)
	}
	var cont string
	for {
		l, err := res.Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: ManagedByLabel + "=" + ManagedBy, Limit: 500, Continue: cont})
		if err != nil {
			return out, fmt.Errorf("list %s reports to remove stale ones: %w", f.Kind(), err)
		}
		for _, r := range l.Items {
			id := r.GetNamespace() + "/" + r.GetName()
			if keep[id] {
				continue
			}
			err := res.Namespace(r.GetNamespace()).Delete(ctx, r.GetName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: ptr(r.GetUID())}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return out, fmt.Errorf("delete stale %s %s: %w", f.Kind(), id, err)
			}
			out.Deleted = append(out.Deleted, id)
		}
		if cont = l.GetContinue(); cont == "" {
			break
		}
	}
	slices.Sort(out.Deleted)
	return out, nil
}

func ptr[T any](v T) *T { return &v }
