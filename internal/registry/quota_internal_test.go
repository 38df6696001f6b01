package registry

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/lookup"
)

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in     string
		n      int
		window time.Duration
		ok     bool
	}{
		{"100;w=21600", 100, 6 * time.Hour, true},
		{"37;w=21600", 37, 6 * time.Hour, true},
		{" 5 ; w=60 ", 5, time.Minute, true},
		{"10", 10, 0, true},
		{"", 0, 0, false},
		{"x;w=60", 0, 0, false},
		{"-1;w=60", 0, 0, false},
		{"10;w=nope", 10, 0, true},
	}
	for _, tt := range tests {
		n, w, ok := parseRateLimit(tt.in)
		if n != tt.n || w != tt.window || ok != tt.ok {
			t.Errorf("parseRateLimit(%q) = %d, %s, %v; want %d, %s, %v", tt.in, n, w, ok, tt.n, tt.window, tt.ok)
		}
	}
}

func rateHeaders(limit, left int) http.Header {
	h := http.Header{}
	h.Set("ratelimit-limit", strconv.Itoa(limit)+";w=3600")
	h.Set("ratelimit-remaining", strconv.Itoa(left)+";w=3600")
	return h
}

// TestQuotaOutOfOrder checks that answers arriving out of the order the
// registry counted them never make the budget look larger than it is.
func TestQuotaOutOfOrder(t *testing.T) {
	q := newQuotas(0)
	ctx := context.Background()
	probe, err := q.acquire(ctx, "r\x00anonymous", "r")
	if err != nil {
		t.Fatal(err)
	}
	probe(rateHeaders(5, 4), 200, false) // the registry counted 1 of 5
	var dones []func(http.Header, int, bool)
	for range 4 {
		d, err := q.acquire(ctx, "r\x00anonymous", "r")
		if err != nil {
			t.Fatalf("GET %d of the 4 left refused: %v", len(dones)+2, err)
		}
		dones = append(dones, d)
	}
	if _, err := q.acquire(ctx, "r\x00anonymous", "r"); lookup.CauseOf(err) != lookup.CauseRateLimited {
		t.Fatalf("a 6th GET with 4 in flight for 4 left: %v, want rate limited", err)
	}
	// The registry counted them 2..5 (3, 2, 1, 0 left); the answers
	// arrive last-counted first, the first-counted last.
	for i, left := range []int{0, 1, 2, 3} {
		dones[i](rateHeaders(5, left), 200, false)
	}
	if got, _ := q.snapshot("r"); got.Remaining != 0 {
		t.Errorf("remaining after out-of-order answers = %d, want 0", got.Remaining)
	}
	if _, err := q.acquire(ctx, "r\x00anonymous", "r"); lookup.CauseOf(err) != lookup.CauseRateLimited {
		t.Errorf("GET after the quota was spent: %v, want rate limited", err)
	}
	// Other credentials at the same registry have their own quota.
	if d, err := q.acquire(ctx, "r\x00abc", "r"); err != nil {
		t.Errorf("GET with other credentials: %v, want it sent", err)
	} else {
		d(rateHeaders(200, 199), 200, false)
	}
}

// TestQuotaProbe checks that GETs wait for the first one to learn the
// budget, and that a registry without the headers is not metered.
func TestQuotaProbe(t *testing.T) {
	q := newQuotas(0)
	ctx := context.Background()
	probe, err := q.acquire(ctx, quotaKey("r", "anonymous"), "r")
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan error)
	go func() {
		d, err := q.acquire(ctx, quotaKey("r", "anonymous"), "r")
		if err == nil {
			d(http.Header{}, 200, false)
		}
		second <- err
	}()
	select {
	case err := <-second:
		t.Fatalf("a second GET went while the first was unanswered (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	probe(http.Header{}, 200, false) // no headers: not metered
	if err := <-second; err != nil {
		t.Fatalf("second GET: %v", err)
	}
	for range 50 {
		if _, err := q.acquire(ctx, quotaKey("r", "anonymous"), "r"); err != nil {
			t.Fatalf("unmetered registry refused a GET: %v", err)
		}
	}
	if _, ok := q.snapshot("r"); !ok {
		t.Error("no snapshot for a registry answered without headers")
	}
}

// TestQuotaComesBack checks that a quota 429 stops GETs for quotaRetry,
// then lets one probe alone, so a long-lived client sees the quota return.
func TestQuotaComesBack(t *testing.T) {
	q := newQuotas(0)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q.now = func() time.Time { return now }
	ctx := context.Background()
	key := quotaKey("r", "anonymous")
	d, err := q.acquire(ctx, key, "r")
	if err != nil {
		t.Fatal(err)
	}
	d(rateHeaders(5, 0), http.StatusTooManyRequests, true)
	now = now.Add(quotaRetry - time.Second)
	if _, err := q.acquire(ctx, key, "r"); lookup.CauseOf(err) != lookup.CauseRateLimited {
		t.Fatalf("GET within quotaRetry of a quota 429: %v, want rate limited", err)
	}
	now = now.Add(2 * time.Second)
	probe, err := q.acquire(ctx, key, "r")
	if err != nil {
		t.Fatalf("GET after quotaRetry: %v, want a probe", err)
	}
	probe(rateHeaders(5, 2), http.StatusOK, false) // 3 pulls came back
	for range 2 {
		if _, err := q.acquire(ctx, key, "r"); err != nil {
			t.Fatalf("GET with pulls left: %v", err)
		}
	}
	if _, err := q.acquire(ctx, key, "r"); lookup.CauseOf(err) != lookup.CauseRateLimited {
		t.Errorf("GET past the returned pulls: %v, want rate limited", err)
	}
}
