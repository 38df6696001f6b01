package reporter

import (
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
)

// Readiness label values: the workload verdicts, spelled for Prometheus.
var readinessLabel = map[assess.Verdict]string{
	assess.Ready:    "ready",
	assess.NotReady: "not_ready",
	assess.Unknown:  "unknown",
}

// Metrics are the reporter's Prometheus metrics, in their own Registry.
// Labels are low in cardinality: namespace and readiness, registry host
// and lookup cause; never a pod or an image.
type Metrics struct {
	// Registry holds the metrics below and the Go and process collectors.
	Registry *prometheus.Registry

	Workloads   *prometheus.GaugeVec   // archway_workloads{namespace,readiness}
	CPURequests *prometheus.GaugeVec   // archway_workload_cpu_requests{namespace,readiness}, in cores
	Lookups     *prometheus.CounterVec // archway_lookups_total{registry,cause}
	Leader      prometheus.Gauge       // 1 while this replica holds the Lease
	Runs        *prometheus.CounterVec // recomputations by outcome (ok, error)
	LastRun     prometheus.Gauge       // unix time of the last successful run
	RunDuration prometheus.Histogram
}

// NewMetrics creates the metrics in a new Registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Workloads: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "archway_workloads",
			Help: "Workloads (each at its top owner) by namespace and arm64 readiness: ready, not_ready, unknown.",
		}, []string{"namespace", "readiness"}),
		CPURequests: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "archway_workload_cpu_requests",
			Help: "CPU cores the workloads' pods request now, by namespace and arm64 readiness: how much could move to arm64 today.",
		}, []string{"namespace", "readiness"}),
		Lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "archway_lookups_total",
			Help: "Image lookups of the reporter's runs, by registry and cause (ok when the lookup succeeded).",
		}, []string{"registry", "cause"}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "archway_reporter_leader",
			Help: "1 while this replica holds the reporter Lease and writes the reports.",
		}),
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "archway_reporter_runs_total",
			Help: "Readiness recomputations by outcome (ok, error).",
		}, []string{"outcome"}),
		LastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "archway_reporter_last_success_timestamp_seconds",
			Help: "Unix time of the last run whose reports were applied.",
		}),
		RunDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "archway_reporter_run_seconds",
			Help:    "Time of one recomputation: lookups, assessment and apply.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}),
	}
	m.Runs.WithLabelValues("ok")
	m.Runs.WithLabelValues("error")
	m.Registry.MustRegister(m.Workloads, m.CPURequests, m.Lookups, m.Leader, m.Runs, m.LastRun, m.RunDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// observe sets the readiness gauges from rep (replacing the last run's,
// so namespaces that are gone disappear) and counts its lookups.
func (m *Metrics) observe(rep assess.Report, took time.Duration) {
	m.Workloads.Reset()
	m.CPURequests.Reset()
	for _, wr := range rep.Workloads {
		ns, r := wr.Workload.Namespace, readinessLabel[wr.Verdict]
		m.Workloads.WithLabelValues(ns, r).Inc()
		m.CPURequests.WithLabelValues(ns, r).Add(float64(wr.Workload.CPURequests) / 1000)
	}
	for _, iv := range rep.Images {
		cause := "ok"
		if iv.Err != nil {
			cause = string(lookup.CauseOf(iv.Err))
		}
		m.Lookups.WithLabelValues(registryOf(iv.Ref), cause).Inc()
	}
	m.Runs.WithLabelValues("ok").Inc()
	m.LastRun.Set(float64(time.Now().Unix()))
	m.RunDuration.Observe(took.Seconds())
}

// lost clears what only the leader exports.
func (m *Metrics) lost() {
	m.Leader.Set(0)
	m.Workloads.Reset()
	m.CPURequests.Reset()
}

// registryOf is the registry host of ref ("invalid" when it does not parse).
func registryOf(ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "invalid"
	}
	return r.Context().RegistryStr()
}
