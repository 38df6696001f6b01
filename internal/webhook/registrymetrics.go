package webhook

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/archwaydev/archway/internal/lookup"
)

// maxWatchedClients bounds how many registry clients (one per pod
// credentials set, rebuilt as secrets rotate) the registry metrics follow.
const maxWatchedClients = 64

// statsSource is what the registry metrics read; *registry.Client is one.
type statsSource interface {
	Stats() []lookup.RegistryStats
}

// registryCollector exports, per registry, what the webhook's registry
// clients spent and saw: requests and pulls, the pull quota remaining as
// last seen, and whether a circuit breaker is open. Low cardinality: one
// series per registry host.
type registryCollector struct {
	mu      sync.Mutex
	clients []statsSource

	requests, pulls, remaining, breakerOpen, trips *prometheus.Desc
}

func newRegistryCollector() *registryCollector {
	l := []string{"registry"}
	return &registryCollector{
		requests:    prometheus.NewDesc("archway_webhook_registry_requests", "HTTP requests sent to the registry by the clients in use.", l, nil),
		pulls:       prometheus.NewDesc("archway_webhook_registry_pulls", "Manifest GETs (what Docker Hub meters as pulls) sent by the clients in use.", l, nil),
		remaining:   prometheus.NewDesc("archway_webhook_registry_ratelimit_remaining", "Pull quota remaining as the registry last reported it (lowest over the credentials in use).", l, nil),
		breakerOpen: prometheus.NewDesc("archway_webhook_registry_breaker_open", "1 while a circuit breaker for the registry is open: lookups there are skipped at once.", l, nil),
		trips:       prometheus.NewDesc("archway_webhook_registry_breaker_trips", "How often the registry's circuit breakers opened.", l, nil),
	}
}

// watch adds a client to follow, dropping the oldest past the bound.
func (c *registryCollector) watch(s statsSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clients = append(c.clients, s)
	if len(c.clients) > maxWatchedClients {
		c.clients = c.clients[len(c.clients)-maxWatchedClients:]
	}
}

// Describe implements prometheus.Collector.
func (c *registryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.pulls, c.remaining, c.breakerOpen, c.trips} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *registryCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	clients := append([]statsSource(nil), c.clients...)
	c.mu.Unlock()
	type agg struct {
		requests, pulls, trips int
		remaining              int
		metered, open          bool
	}
	by := map[string]*agg{}
	for _, cl := range clients {
		for _, s := range cl.Stats() {
			a := by[s.Registry]
			if a == nil {
				a = &agg{remaining: -1}
				by[s.Registry] = a
			}
			a.requests += s.Requests
			a.pulls += s.Pulls
			a.trips += s.BreakerTrips
			a.open = a.open || s.Breaker == lookup.BreakerOpen
			if s.Quota.Metered && (!a.metered || s.Quota.Remaining < a.remaining) {
				a.metered, a.remaining = true, s.Quota.Remaining
			}
		}
	}
	for host, a := range by {
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.GaugeValue, float64(a.requests), host)
		ch <- prometheus.MustNewConstMetric(c.pulls, prometheus.GaugeValue, float64(a.pulls), host)
		ch <- prometheus.MustNewConstMetric(c.trips, prometheus.GaugeValue, float64(a.trips), host)
		open := 0.0
		if a.open {
			open = 1
		}
		ch <- prometheus.MustNewConstMetric(c.breakerOpen, prometheus.GaugeValue, open, host)
		if a.metered {
			ch <- prometheus.MustNewConstMetric(c.remaining, prometheus.GaugeValue, float64(a.remaining), host)
		}
	}
}
