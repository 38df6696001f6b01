package testenv

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
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
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range procs {
				t.Logf("testenv: last lines of the %s log:\n%s", p.name, p.logTail(15))
			}
		}
	})
	keep := func(p *process) {
		procs = append(procs, p)
		t.Cleanup(func() { p.stop(15 * time.Second) })
	}

	etcdURL, err := withFreshPorts(2, func(ports []int) (*process, string, error) {
		return startEtcd(ctx, work, bins["etcd"], ports[0], ports[1])
	})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	keep(etcdURL.proc)

	var env *Env
	apiserver, err := withFreshPorts(1, func(ports []int) (*process, *Env, error) {
		return startAPIServer(ctx, work, bins["kube-apiserver"], keys, etcdURL.value, ports[0])
	})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	keep(apiserver.proc)
	env = apiserver.value

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

// startEtcd runs a single-member etcd with its data under work and returns
// its client URL once /health reports healthy.
func startEtcd(ctx context.Context, work, bin string, clientPort, peerPort int) (*process, string, error) {
	clientURL := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	// A unique member name tells this etcd from another test's that may
	// have taken the port first.
	name := "testenv-" + rand.Text()
	p, err := startProcess(work, "etcd", bin, []string{
		"--name=" + name,
		"--data-dir=" + filepath.Join(work, "etcd-"+strconv.Itoa(clientPort)),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=" + name + "=" + peerURL,
		"--initial-cluster-state=new",
		"--logger=zap",
		"--log-outputs=stderr",
		"--log-level=warn",
	})
	if err != nil {
		return nil, "", err
	}
	client := &http.Client{}
	err = p.waitReady(ctx, 30*time.Second, func(ctx context.Context) error {
		body, err := do(ctx, client, http.MethodGet, clientURL+"/health", "")
		if err != nil {
			return err
		}
		if !strings.Contains(body, `"health":"true"`) {
			return fmt.Errorf("etcd /health: %s", body)
		}
		members, err := do(ctx, client, http.MethodPost, clientURL+"/v3/cluster/member/list", "{}")
		if err != nil {
			return err
		}
		if !strings.Contains(members, `"name":"`+name+`"`) {
			return fmt.Errorf("%s is served by another etcd: %w", clientURL, errPortInUse)
		}
		return nil
	})
	if err != nil {
		return p, "", err
	}
	return p, clientURL, nil
}

// startAPIServer runs kube-apiserver on 127.0.0.1:port against etcdURL,
// writes the admin kubeconfig, and returns once /readyz answers ok.
func startAPIServer(ctx context.Context, work, bin string, keys *pki, etcdURL string, port int) (*process, *Env, error) {
	host := "https://127.0.0.1:" + strconv.Itoa(port)
	p, err := startProcess(work, "kube-apiserver", bin, []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + keys.servingCertFile,
		"--tls-private-key-file=" + keys.servingKeyFile,
		"--client-ca-file=" + keys.caFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + keys.serviceAccountPubF,
		"--service-account-signing-key-file=" + keys.serviceAccountFile,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=RBAC",
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		"--profiling=false",
		"--v=1",
	})
	if err != nil {
		return nil, nil, err
	}
	cfg := &rest.Config{
		Host:      host,
		UserAgent: "archway-testenv",
		QPS:       100,
		Burst:     200,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   keys.caCert,
			CertData: keys.clientCert,
			KeyData:  keys.clientKey,
		},
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return p, nil, fmt.Errorf("kube-apiserver client: %w", err)
	}
	err = p.waitReady(ctx, 2*time.Minute, func(ctx context.Context) error {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("kube-apiserver /readyz: %w", err)
		}
		if string(body) != "ok" {
			return fmt.Errorf("kube-apiserver /readyz: %s", body)
		}
		return nil
	})
	if err != nil {
		return p, nil, err
	}
	kubeconfig := filepath.Join(work, "admin.kubeconfig")
	if err := writeKubeconfig(kubeconfig, cfg); err != nil {
		return p, nil, err
	}
	return p, &Env{Config: cfg, Client: client, Kubeconfig: kubeconfig}, nil
}

// startScheduler runs kube-scheduler against the API server in kubeconfig,
// serving its health endpoints on 127.0.0.1:port with the API server's
// certificate, and returns once its /readyz answers ok.
func startScheduler(ctx context.Context, work, bin string, keys *pki, kubeconfig string, port int) (*process, error) {
	p, err := startProcess(work, "kube-scheduler", bin, []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--authentication-skip-lookup=true",
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + keys.servingCertFile,
		"--tls-private-key-file=" + keys.servingKeyFile,
		"--profiling=false",
		"--v=1",
	})
	if err != nil {
		return nil, err
	}
	// Verifying with this control plane's CA tells this scheduler from
	// another test's that may have taken the port first.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(keys.caCert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	url := "https://127.0.0.1:" + strconv.Itoa(port) + "/readyz"
	err = p.waitReady(ctx, time.Minute, func(ctx context.Context) error {
		body, err := do(ctx, client, http.MethodGet, url, "")
		if err != nil {
			return err
		}
		if body != "ok" {
			return fmt.Errorf("kube-scheduler /readyz: %s", body)
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	return p, nil
}

// do sends a request with body (JSON, when not empty) and returns the
// response body; a status other than 200 is an error.
func do(ctx context.Context, client *http.Client, method, url, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, data)
	}
	return string(data), nil
}

// writeKubeconfig writes cfg's server and credentials as a kubeconfig file.
func writeKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.Config{
		Clusters: map[string]*clientcmdapi.Cluster{"testenv": {
			Server:                   cfg.Host,
			CertificateAuthorityData: cfg.CAData,
		}},
		AuthInfos: map[string]*clientcmdapi.AuthInfo{"admin": {
			ClientCertificateData: cfg.CertData,
			ClientKeyData:         cfg.KeyData,
		}},
		Contexts: map[string]*clientcmdapi.Context{"testenv": {
			Cluster:   "testenv",
			AuthInfo:  "admin",
			Namespace: "default",
		}},
		CurrentContext: "testenv",
	}
	if err := clientcmd.WriteToFile(kc, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}
