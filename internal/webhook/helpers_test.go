package webhook_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/archwaydev/archway/internal/certs"
	"github.com/archwaydev/archway/internal/sandbox"
	"github.com/archwaydev/archway/internal/testenv"
	"github.com/archwaydev/archway/internal/webhook"
)

func runtimeRaw(b []byte) runtime.RawExtension { return runtime.RawExtension{Raw: b} }

// counter returns the value of the counter name{label=value} (0 if absent).
func counter(t *testing.T, m *webhook.Metrics, name, label, value string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, metric := range f.GetMetric() {
			match := label == ""
			for _, l := range metric.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					match = true
				}
			}
			if match {
				return metric.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// mustPEM returns the DER bytes of the first PEM block.
func mustPEM(t *testing.T, b []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}

// hangingRegistry starts a server that accepts connections and never
// answers, and returns its host:port.
func hangingRegistry(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	return strings.TrimPrefix(hang.URL, "http://")
}

// loopbackCerts writes a serving certificate for 127.0.0.1 to a temporary
// directory.
func loopbackCerts(t *testing.T) (serving *certs.Serving, certFile, keyFile string) {
	t.Helper()
	serving, err := certs.NewServing("test-ca", []string{"127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err = serving.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return serving, certFile, keyFile
}

// startCluster starts a control plane (with a scheduler if asked) and the
// sandbox registry, and returns them with a context that ends after three
// minutes or with the test.
func startCluster(t *testing.T, scheduler bool) (*testenv.Env, context.Context, *sandbox.Server) {
	t.Helper()
	env := testenv.Start(t, testenv.Options{Scheduler: scheduler})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	reg, err := sandbox.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	return env, ctx, reg
}
