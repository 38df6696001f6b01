package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/archwaydev/archway/internal/registry"
)

// TestRegistryMetrics: the webhook exports, per registry, the requests its
// clients sent and whether the circuit breaker is open, read from a real
// client against a registry that only fails.
func TestRegistryMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	c, err := registry.New(registry.WithoutCache(), registry.WithInsecure(host), registry.WithRetry(1, time.Millisecond),
		registry.WithCircuitBreaker(2, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	m.registries.watch(c)
	for _, repo := range []string{"a", "b", "c", "d"} {
		c.Lookup(context.Background(), host+"/"+repo+":1")
	}
	want := `
# HELP archway_webhook_registry_breaker_open 1 while a circuit breaker for the registry is open: lookups there are skipped at once.
# TYPE archway_webhook_registry_breaker_open gauge
archway_webhook_registry_breaker_open{registry="` + host + `"} 1
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "archway_webhook_registry_breaker_open"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(m.Registry, "archway_webhook_registry_requests"); err != nil || n != 1 {
		t.Errorf("requests series = %d (%v), want one for the registry", n, err)
	}
}
