package registrytest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/archwaydev/archway/internal/certs"
)

// DistributionBinary is the name of Debian's distribution 2.8 registry
// binary (package docker-registry).
const DistributionBinary = "docker-registry"

// DistributionOptions configures StartDistribution.
type DistributionOptions struct {
	// TLS serves HTTPS with a self-signed certificate for 127.0.0.1 and
	// localhost, made in Go.
	TLS bool
	// Users (name → password) turns on htpasswd basic auth (bcrypt hashes
	// made with htpasswd -B). Empty: no auth.
	Users map[string]string
}

// Distribution is a running docker-registry process.
type Distribution struct {
	// Host is 127.0.0.1:port, the registry part of references.
	Host string
	// URL is http(s)://Host.
	URL string
	// CAPEM, CAFile and CertPool hold the CA of the serving certificate when
	// TLS is on (nil/empty otherwise).
	CAPEM    []byte
	CAFile   string
	CertPool *x509.CertPool
	// Transport trusts CertPool (a clone of http.DefaultTransport).
	Transport http.RoundTripper
	// Users are the htpasswd users, name → password.
	Users map[string]string
	// Dir holds the config, storage and log.
	Dir string
}

// Ref returns the reference host/repo (repo may carry :tag or @digest).
func (d *Distribution) Ref(repo string) string { return d.Host + "/" + repo }

// RemoteOptions are go-containerregistry options to push to the registry:
// its transport and, with users, the first user's credentials.
func (d *Distribution) RemoteOptions() []remote.Option {
	opts := []remote.Option{remote.WithTransport(d.Transport)}
	if user, pass, ok := d.User(); ok {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: user, Password: pass}))
	}
	return opts
}

// User returns one of the users (the first by name), if there are any.
func (d *Distribution) User() (user, pass string, ok bool) {
	names := make([]string, 0, len(d.Users))
	for n := range d.Users {
		names = append(names, n)
	}
	if len(names) == 0 {
		return "", "", false
	}
	sort.Strings(names)
	return names[0], d.Users[names[0]], true
}

// NeedBinary returns the path of an installed binary. When it is missing
// the test is skipped with a message, or fails when CI=true: CI must have
// what hack/test-deps.sh installs.
func NeedBinary(t testing.TB, bin, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err == nil {
		return path
	}
	missing(t, fmt.Sprintf("%s not installed (Debian package %s; bash hack/test-deps.sh installs it)", bin, pkg))
	return ""
}

// StartDistribution starts docker-registry on a free 127.0.0.1 port with
// filesystem storage in a temporary directory, waits until /v2/ answers,
// and stops it on cleanup.
func StartDistribution(t testing.TB, opts DistributionOptions) *Distribution {
	t.Helper()
	bin := NeedBinary(t, DistributionBinary, "docker-registry")
	d := &Distribution{Dir: t.TempDir(), Users: opts.Users}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d.Transport = tr

	var tlsCfg string
	if opts.TLS {
		serving, err := certs.NewServing("registrytest-ca", []string{"127.0.0.1", "::1", "localhost"}, time.Now(), 24*time.Hour)
		if err != nil {
			t.Fatalf("registrytest: certificate: %v", err)
		}
		d.CAPEM = serving.CAPEM
		d.CAFile = filepath.Join(d.Dir, "ca.pem")
		writeFile(t, d.CAFile, serving.CAPEM)
		certFile, keyFile, err := serving.WriteFiles(d.Dir)
		if err != nil {
			t.Fatalf("registrytest: %v", err)
		}
		d.CertPool = x509.NewCertPool()
		d.CertPool.AppendCertsFromPEM(serving.CAPEM)
		tr.TLSClientConfig = &tls.Config{RootCAs: d.CertPool, MinVersion: tls.VersionTLS12}
		tlsCfg = fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", certFile, keyFile)
	}
	var authCfg string
	if len(opts.Users) > 0 {
		htpasswd := filepath.Join(d.Dir, "htpasswd")
		writeHtpasswd(t, htpasswd, opts.Users)
		authCfg = fmt.Sprintf("auth:\n  htpasswd:\n    realm: registrytest\n    path: %s\n", htpasswd)
	}

	var lastErr error
	for try := 0; try < 3; try++ { // a free port may be taken between probe and start
		port, err := freePort()
		if err != nil {
			t.Fatalf("registrytest: free port: %v", err)
		}
		d.Host = fmt.Sprintf("127.0.0.1:%d", port)
		d.URL = "http://" + d.Host
		if opts.TLS {
			d.URL = "https://" + d.Host
		}
		cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: registrytest-secret
%s%s`, filepath.Join(d.Dir, "storage"), d.Host, tlsCfg, authCfg)
		cfgFile := filepath.Join(d.Dir, "config.yml")
		writeFile(t, cfgFile, []byte(cfg))
		if lastErr = d.start(t, bin, cfgFile); lastErr == nil {
			return d
		}
	}
	t.Fatalf("registrytest: docker-registry did not start: %v", lastErr)
	return nil
}

// start runs the binary and waits for /v2/ to answer 200 or 401.
func (d *Distribution) start(t testing.TB, bin, cfgFile string) error {
	t.Helper()
	logFile := filepath.Join(d.Dir, "registry.log")
	logf, err := os.Create(logFile)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "serve", cfgFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			exited <- err
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			exited <- <-exited
		}
	}
	client := &http.Client{Transport: d.Transport, Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			b, _ := os.ReadFile(logFile)
			return fmt.Errorf("exited (%v): %s", err, lastLines(b, 20))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/v2/", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			cancel()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				t.Cleanup(stop)
				return nil
			}
		} else {
			cancel()
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	b, _ := os.ReadFile(logFile)
	return fmt.Errorf("no answer on %s/v2/ within 20s: %s", d.URL, lastLines(b, 20))
}

// writeHtpasswd writes bcrypt hashes with htpasswd -B (apache2-utils).
func writeHtpasswd(t testing.TB, path string, users map[string]string) {
	t.Helper()
	bin := NeedBinary(t, "htpasswd", "apache2-utils")
	var buf bytes.Buffer
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		// -i reads the password from stdin, so it is not on a command line.
		cmd := exec.Command(bin, "-n", "-B", "-i", n)
		cmd.Stdin = strings.NewReader(users[n])
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("registrytest: htpasswd for %s: %v", n, err)
		}
		buf.Write(bytes.TrimSpace(out))
		buf.WriteByte('\n')
	}
	writeFile(t, path, buf.Bytes())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("registrytest: %v", err)
	}
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
