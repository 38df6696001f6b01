package webhook

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/registry"
)

// Outcomes of one admission, the values of the outcome label of
// archway_webhook_admissions_total.
const (
	OutcomePlaced      = "placed"      // a placement patch was returned
	OutcomeUnchanged   = "unchanged"   // every image known; nothing to change
	OutcomeAudit       = "audit"       // audit mode: would have changed the pod
	OutcomeSkipped     = "skipped"     // failed open: timeout, registry failure, unknown image, panic
	OutcomeUnplaceable = "unplaceable" // no architecture runs every container, or a conflicting pin
	OutcomeDisabled    = "disabled"    // the pod opted out
	OutcomeIgnored     = "ignored"     // not a Pod CREATE
)

// Metrics are the webhook's Prometheus metrics, registered in their own
// Registry (never the global one).
type Metrics struct {
	// Registry holds every metric below plus the Go and process collectors.
	Registry *prometheus.Registry

	Admissions     *prometheus.CounterVec   // by outcome
	Skips          *prometheus.CounterVec   // fail-open admissions by reason
	LookupDuration *prometheus.HistogramVec // registry lookups (cache misses) by result
	CacheHits      prometheus.Counter
	CacheMisses    prometheus.Counter
	RegistryErrors *prometheus.CounterVec // by lookup.Cause
	AdmissionTime  prometheus.Histogram

	registries *registryCollector // per-registry spend, quota and breaker state
}

// NewMetrics creates the metrics in a new Registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry:   prometheus.NewRegistry(),
		registries: newRegistryCollector(),
		Admissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "archway_webhook_admissions_total",
			Help: "Pod admissions answered, by outcome.",
		}, []string{"outcome"}),
		Skips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "archway_webhook_skipped_total",
			Help: "Admissions that failed open (pod admitted unchanged), by reason.",
		}, []string{"reason"}),
		LookupDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "archway_webhook_registry_lookup_seconds",
			Help:    "Latency of registry lookups made on cache misses, by result (ok or error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10},
		}, []string{"result"}),
		CacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "archway_webhook_cache_hits_total",
			Help: "Image lookups answered from the in-memory cache.",
		}),
		CacheMisses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "archway_webhook_cache_misses_total",
			Help: "Image lookups not in the in-memory cache.",
		}),
		RegistryErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "archway_webhook_registry_errors_total",
			Help: "Failed registry lookups, by cause.",
		}, []string{"cause"}),
		AdmissionTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "archway_webhook_admission_seconds",
			Help:    "Time to answer one Pod admission.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2, 5},
		}),
	}
	// Every outcome is exported from the start, at 0, so rates and alerts
	// work before the first of its kind.
	for _, o := range []string{OutcomePlaced, OutcomeUnchanged, OutcomeAudit, OutcomeSkipped, OutcomeUnplaceable, OutcomeDisabled, OutcomeIgnored} {
		m.Admissions.WithLabelValues(o)
	}
	m.Registry.MustRegister(
		m.Admissions, m.Skips, m.LookupDuration, m.CacheHits, m.CacheMisses, m.RegistryErrors, m.AdmissionTime, m.registries,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

var _ registry.CacheObserver = (*Metrics)(nil)

// CacheHit implements registry.CacheObserver.
func (m *Metrics) CacheHit() { m.CacheHits.Inc() }

// CacheMiss implements registry.CacheObserver.
func (m *Metrics) CacheMiss() { m.CacheMisses.Inc() }

// LookedUp implements registry.CacheObserver.
func (m *Metrics) LookedUp(d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
		m.RegistryErrors.WithLabelValues(string(lookup.CauseOf(err))).Inc()
	}
	m.LookupDuration.WithLabelValues(result).Observe(d.Seconds())
}
