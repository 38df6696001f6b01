package webhook

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/registry"
)

// warmPodLimit bounds the pods the warm start reads.
const warmPodLimit = 10000

// warmUp lists the pods not yet finished (in pages, at most warmPodLimit) and looks
// up each distinct image with its pod's credentials, 8 at a time, so that
// the first admissions after a rollout hit the cache. It returns the
// number of lookups made; it stops when ctx ends.
func warmUp(ctx context.Context, kube kubernetes.Interface, cache *registry.MemCache, lookups Lookups) (int, error) {
	type job struct {
		ref   string
		creds *registry.Credentials
	}
	seen := map[job]bool{}
	var jobs []job
	opts := metav1.ListOptions{Limit: 500, FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"}
	for read := 0; read < warmPodLimit; {
		pods, err := kube.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			return 0, fmt.Errorf("list pods: %w", err)
		}
		for i := range pods.Items {
			pod := &pods.Items[i]
			secrets := PullSecretsOf(pod.Namespace, &pod.Spec)
			creds, err := lookups.For(secrets)
			if err != nil {
				continue
			}
			for _, ref := range placement.Images(&pod.Spec) {
				if j := (job{ref: ref, creds: creds}); !seen[j] {
					seen[j] = true
					jobs = append(jobs, j)
				}
			}
		}
		read += len(pods.Items)
		if opts.Continue = pods.Continue; opts.Continue == "" {
			break
		}
	}
	var g errgroup.Group
	g.SetLimit(8)
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			cache.Lookup(ctx, j.ref, j.creds.Key(ctx, j.ref), j.creds.Lookup)
			return nil
		})
	}
	_ = g.Wait()
	return len(jobs), ctx.Err()
}
