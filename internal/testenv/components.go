package testenv

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

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
	client := &http.Client{Transport: &http.Transport{}} // no proxy
	defer client.CloseIdleConnections()
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
	defer client.CloseIdleConnections()
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
