package lookup

import (
	"encoding/json"
	"fmt"
	"time"
)

// RegistryStats is what a Client spent at one registry host, and what it
// learnt of it.
type RegistryStats struct {
	// Registry is the host[:port] the requests went to.
	Registry string `json:"registry"`
	// Requests counts every HTTP request sent: pings, tokens, manifests,
	// blobs, retries included.
	Requests int `json:"requests"`
	// Pulls counts manifest GETs, which Docker Hub meters as pulls.
	Pulls int `json:"pulls"`
	// Heads counts manifest HEADs, which Docker Hub does not meter.
	Heads int `json:"heads"`
	// RateLimited counts lookups refused for the quota: not sent because
	// it was down to the reserve, or answered with a quota 429.
	RateLimited int `json:"rateLimited"`
	// Quota is the pull quota as last seen (Metered false: none reported).
	Quota Quota `json:"quota"`
	// Breaker is the circuit breaker's state; BreakerTrips how often it
	// opened.
	Breaker      BreakerState `json:"breaker"`
	BreakerTrips int          `json:"breakerTrips"`
}

// BreakerState is the state of a registry's circuit breaker.
type BreakerState string

// The states of a circuit breaker.
const (
	BreakerClosed BreakerState = "closed" // requests flow
	BreakerOpen   BreakerState = "open"   // requests are refused as registry unavailable
)

// Quota is a registry's pull quota as its ratelimit-limit and
// ratelimit-remaining headers reported it (Docker Hub: "100;w=21600").
type Quota struct {
	// Metered is set once the registry sent the headers; a registry that
	// answered a manifest GET without them is not metered.
	Metered bool `json:"metered"`
	// Limit is the number of pulls (manifest GETs) allowed per Window.
	Limit int `json:"limit"`
	// Remaining is the pulls left as last seen: the lowest count the
	// registry's answers allow, after every request this client sent.
	Remaining int `json:"remaining"`
	// Window is the period the limit applies to (JSON: windowSeconds).
	Window time.Duration `json:"-"`
	// Exhausted is set while pulls are refused: after a quota 429 (for a
	// minute, then one GET probes again), or with Remaining at the reserve.
	Exhausted bool `json:"exhausted"`
}

// MarshalJSON writes the window in seconds, as the headers give it.
func (q Quota) MarshalJSON() ([]byte, error) {
	type plain Quota
	return json.Marshal(struct {
		plain
		WindowSeconds int64 `json:"windowSeconds"`
	}{plain(q), int64(q.Window / time.Second)})
}

// String is "37/100 per 6h0m0s", "used up …", or "-" when not metered.
func (q Quota) String() string {
	if !q.Metered {
		return "-"
	}
	s := fmt.Sprintf("%d/%d", q.Remaining, q.Limit)
	if q.Window > 0 {
		s += " per " + q.Window.String()
	}
	if q.Exhausted {
		s += " (used up)"
	}
	return s
}
