package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// KubernetesVersion is the release of kube-apiserver and kube-scheduler the
// tests run against. It must match k8s.io/kubernetes in hack/testenv/go.mod
// (a test checks).
const KubernetesVersion = "v1.36.3"

// BinDirEnv names the environment variable that, when set, overrides the
// directory holding the binaries (see BinDir).
const BinDirEnv = "ARCHWAY_K8S_BIN_DIR"

// buildCommand is what makes the binaries; it is quoted in skip messages.
const buildCommand = "bash hack/k8s-binaries.sh"

// serviceIP is the first address of the service range, the "kubernetes"
// Service's ClusterIP.
const (
	serviceCIDR = "10.0.0.0/24"
	serviceIP   = "10.0.0.1"
)

// Options selects the components Start runs besides etcd and kube-apiserver.
type Options struct {
	// Scheduler also starts kube-scheduler, so Pods are bound to Nodes.
	// The default is no scheduler: Pods stay Pending.
	Scheduler bool
}

// Env is a running control plane. Its fields are read-only.
type Env struct {
	// Config is an admin (system:masters) client configuration for the
	// kube-apiserver on https://127.0.0.1:<port>.
	Config *rest.Config
	// Client is a clientset built from Config.
	Client kubernetes.Interface
	// Kubeconfig is the path of a kubeconfig file with the same admin
	// credentials, for code that loads one.
	Kubeconfig string
}

// BinDir returns the directory holding etcd, kube-apiserver and
// kube-scheduler: $ARCHWAY_K8S_BIN_DIR when set, otherwise
// <user cache dir>/archway/k8s/<KubernetesVersion>, where
// hack/k8s-binaries.sh puts them.
func BinDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return dir, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("testenv: locate the user cache dir: %w", err)
	}
	return filepath.Join(cache, "archway", "k8s", KubernetesVersion), nil
}

// Start runs etcd and kube-apiserver (and kube-scheduler when
// opts.Scheduler) on free 127.0.0.1 ports, with freshly generated
// certificates and all state under t.TempDir(), and returns once the API
// server's /readyz (and the scheduler's) answers ok. The processes are
// stopped by t.Cleanup: scheduler, then kube-apiserver, then etcd.
//
// The ServiceAccount admission plugin is off (there is no
// kube-controller-manager to create service accounts); admission webhooks
// are on, and the API server reaches webhooks on 127.0.0.1 directly.
//
// When a binary is missing, the test is skipped with the command that
// builds it, or fails when the environment variable CI is "true".
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	began := time.Now()
	dir, err := BinDir()
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"etcd", "kube-apiserver"}
	if opts.Scheduler {
		names = append(names, "kube-scheduler")
	}
	bins := map[string]string{}
	for _, name := range names {
		path := filepath.Join(dir, name)
		if info, err := os.Stat(path); err != nil || info.IsDir() {
			msg := fmt.Sprintf("testenv: %s not found in %s; build the control-plane binaries with: %s (about 15 minutes the first time)", name, dir, buildCommand)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		bins[name] = path
	}

	work := t.TempDir() // removed after the processes are stopped (cleanups run last-in first-out)
	ctx := t.Context()
	keys, err := newPKI()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if err := keys.writeFiles(work); err != nil {
		t.Fatalf("testenv: %v", err)
	}

	var procs []*process
	keep := func(p *process) {
		procs = append(procs, p)
		t.Cleanup(func() { p.stop(15 * time.Second) })
	}

	etcd, err := withFreshPorts(2, func(ports []int) (*process, string, error) {
		return startEtcd(ctx, work, bins["etcd"], ports[0], ports[1])
	})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	keep(etcd.proc)

	apiserver, err := withFreshPorts(1, func(ports []int) (*process, *Env, error) {
		return startAPIServer(ctx, work, bins["kube-apiserver"], keys, etcd.value, ports[0])
	})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	keep(apiserver.proc)
	env := apiserver.value

	if opts.Scheduler {
		sched, err := withFreshPorts(1, func(ports []int) (*process, struct{}, error) {
			p, err := startScheduler(ctx, work, bins["kube-scheduler"], keys, env.Kubeconfig, ports[0])
			return p, struct{}{}, err
		})
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		keep(sched.proc)
	}
	// Registered last, so it runs before the processes are stopped.
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range procs {
				t.Logf("testenv: last lines of the %s log:\n%s", p.name, p.logTail(15))
			}
		}
	})
	t.Logf("testenv: control plane %s ready in %s (%s)", KubernetesVersion, time.Since(began).Round(time.Millisecond), env.Config.Host)
	return env
}

// started is a component that came up, and what its caller needs from it.
type started[T any] struct {
	proc  *process
	value T
}

// withFreshPorts calls start with n free ports, and again with new ones (up
// to five times in all) while it fails because another process took one.
func withFreshPorts[T any](n int, start func(ports []int) (*process, T, error)) (started[T], error) {
	var err error
	for range 5 {
		var ports []int
		ports, err = freePorts(n)
		if err != nil {
			return started[T]{}, err
		}
		var p *process
		var v T
		p, v, err = start(ports)
		if err == nil {
			return started[T]{proc: p, value: v}, nil
		}
		if p != nil {
			p.stop(5 * time.Second)
		}
		if !errors.Is(err, errPortInUse) {
			return started[T]{}, err
		}
	}
	return started[T]{}, err
}
