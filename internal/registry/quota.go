package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/archwaydev/archway/internal/lookup"
)

// quotas gates manifest GETs by the pull quota of each registry and
// credentials. The first manifest GET to a key goes alone and teaches the
// budget; after it, GETs run concurrently while the pulls left after all
// in-flight GETs stay above the reserve; below it, GETs are refused at
// once. After a quota 429, GETs are refused for quotaRetry; then one GET
// probes the budget alone again (a long-lived client, the webhook, sees
// the quota come back).
type quotas struct {
	reserve int
	now     func() time.Time

	mu sync.Mutex
	m  map[string]*quotaState
}

// quotaState is one key's quota. Remaining is a lower bound of the pulls
// left once every GET sent is counted: each GET lowers it when sent, and
// an answer saying h are left proves at least h minus the GETs the
// registry may have counted after it: those pending when it was sent, and
// those sent since.
type quotaState struct {
	lookup.Quota
	known   bool          // headers (or their absence on a 2xx) seen
	sent    int           // GETs sent
	pending int           // GETs sent and not yet answered
	probe   chan struct{} // closed when the probing GET is answered; nil: no probe
	refused time.Time     // when a quota 429 came; zero: none since the last probe
}

// quotaRetry is how long a quota 429 stops GETs before one probes again.
const quotaRetry = time.Minute

// usedUp reports whether no more GETs may be sent to st: a quota 429 came
// less than quotaRetry ago, or the pulls left are down to the reserve. A
// 429 older than that makes the next GET a probe.
func (q *quotas) usedUp(st *quotaState) bool {
	if !st.refused.IsZero() {
		if q.now().Sub(st.refused) < quotaRetry {
			return true
		}
		st.refused, st.known, st.Exhausted = time.Time{}, false, false
		return false
	}
	return st.known && st.Metered && st.Remaining <= q.reserve
}

// mark is a quota's counters when a request was sent.
type mark struct{ sent, pending int }

// learn takes in an answer's headers for a request sent at m (not
// counted in m); it reports whether they named a quota.
func (st *quotaState) learn(hdr http.Header, m mark) bool {
	limit, window, ok := parseRateLimit(hdr.Get("ratelimit-limit"))
	left, _, ok2 := parseRateLimit(hdr.Get("ratelimit-remaining"))
	if !ok || !ok2 {
		return false
	}
	est := left - (st.sent - m.sent) - m.pending
	if !st.known || !st.Metered {
		st.Remaining = est
	} else {
		st.Remaining = max(st.Remaining, est)
	}
	st.known, st.Metered, st.Limit, st.Window = true, true, limit, window
	return true
}

func newQuotas(reserve int) *quotas {
	return &quotas{reserve: reserve, now: time.Now, m: map[string]*quotaState{}}
}

func (q *quotas) state(key string) *quotaState {
	st, ok := q.m[key]
	if !ok {
		st = &quotaState{}
		q.m[key] = st
	}
	return st
}

// errQuota is the failure of a manifest GET refused because of the quota.
type errQuota struct {
	registry string
	q        lookup.Quota
	reserve  int
}

func (e *errQuota) Error() string {
	if e.q.Limit > 0 {
		return fmt.Sprintf("pull quota of %s used up (limit %d per %s, %d left, reserve %d): no manifest GET sent",
			e.registry, e.q.Limit, e.q.Window, max(e.q.Remaining, 0), e.reserve)
	}
	return fmt.Sprintf("pull quota of %s used up: no manifest GET sent", e.registry)
}

// acquire reserves one manifest GET for key, waiting while another GET
// probes an unknown budget. It fails with lookup.CauseRateLimited when the quota
// is down to the reserve. done must be called with the answer's header
// (nil when none came) and whether it was a quota 429.
func (q *quotas) acquire(ctx context.Context, key, registry string) (done func(hdr http.Header, status int, quota429 bool), err error) {
	for {
		q.mu.Lock()
		st := q.state(key)
		if q.usedUp(st) {
			st.Exhausted = true
			e := &errQuota{registry: registry, q: st.Quota, reserve: q.reserve}
			q.mu.Unlock()
			return nil, &lookup.Error{Cause: lookup.CauseRateLimited, Err: e}
		}
		if !st.known && st.probe != nil {
			wait := st.probe
			q.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		st.Exhausted = false
		probing := !st.known
		if probing {
			st.probe = make(chan struct{})
		}
		m := mark{sent: st.sent, pending: st.pending}
		st.sent++
		st.pending++
		if st.Metered {
			st.Remaining--
		}
		q.mu.Unlock()
		var once sync.Once
		return func(hdr http.Header, status int, quota429 bool) {
			once.Do(func() { q.done(st, m, hdr, status, quota429, probing) })
		}, nil
	}
}

func (q *quotas) done(st *quotaState, m mark, hdr http.Header, status int, quota429, probing bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	st.pending--
	// The answer to this GET counts it: m.sent+1 GETs are behind it.
	if !st.learn(hdr, mark{sent: m.sent + 1, pending: m.pending}) && status >= 200 && status < 300 && !st.known {
		st.known = true // answered without the headers: not metered
	}
	if quota429 {
		st.known, st.Exhausted, st.refused = true, true, q.now()
		st.Remaining = min(st.Remaining, 0)
	}
	if probing && st.probe != nil {
		close(st.probe)
		st.probe = nil
	}
}

// refuse returns the lookup.CauseRateLimited failure when key's quota is known
// to be down to the reserve, without reserving anything.
func (q *quotas) refuse(key, registry string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	st, ok := q.m[key]
	if !ok || !q.usedUp(st) {
		return nil
	}
	st.Exhausted = true
	return &lookup.Error{Cause: lookup.CauseRateLimited, Err: &errQuota{registry: registry, q: st.Quota, reserve: q.reserve}}
}

// quotaRefused counts a lookup refused for key's quota and gives the
// note about it, once per key.
func (c *Client) quotaRefused(key, host string) {
	c.stats.refused(host)
	q, _ := c.quotas.snapshot(host)
	limit := "its pull quota"
	if q.Limit > 0 {
		limit = fmt.Sprintf("its pull quota of %d per %s", q.Limit, q.Window)
	}
	who := "these credentials"
	if strings.HasSuffix(key, keySep+"anonymous") {
		who = "anonymous pulls from this address"
	}
	c.notes.add("quota "+key, fmt.Sprintf("%s: %s for %s is used up (reserve %d): its remaining lookups are unknown (rate limited) and send no manifest GET. "+
		"To raise it, log in (docker login, or --username with --password-stdin) for a larger quota, "+
		"or pull through a mirror (--registry-mirror %s=MIRROR, Docker's daemon.json registry-mirrors, containerd's hosts.toml)",
		host, limit, who, c.quotas.reserve, originName(host)))
}

// originName is how --registry-mirror names a registry.
func originName(host string) string {
	if host == name.DefaultRegistry {
		return "docker.io"
	}
	return host
}

// mark returns key's counters before a request that spends no pull (a
// HEAD), for observe.
func (q *quotas) mark(key string) mark {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.state(key)
	return mark{sent: st.sent, pending: st.pending}
}

// observe takes in the headers of an answer that spends no pull (a HEAD)
// sent at m.
func (q *quotas) observe(key string, m mark, hdr http.Header) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.state(key).learn(hdr, m)
}

// snapshot returns the quota of a registry host as the registry reported
// it: the lowest remaining of its credentials'.
func (q *quotas) snapshot(host string) (lookup.Quota, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var (
		out   lookup.Quota
		found bool
	)
	for key, st := range q.m {
		if h, _, _ := strings.Cut(key, keySep); h != host || !st.known {
			continue
		}
		if !found || (st.Metered && (!out.Metered || st.Remaining < out.Remaining)) {
			out, found = st.Quota, true
		}
	}
	out.Remaining = max(out.Remaining, 0)
	return out, found
}

// keySep separates a quota key's registry from its credentials.
const keySep = "\x00"

// quotaKey is the key of a registry's quota for one set of credentials.
func quotaKey(host, cred string) string { return host + keySep + cred }

// parseRateLimit reads "100;w=21600" (count, then parameters; w is the
// window in seconds).
func parseRateLimit(v string) (n int, window time.Duration, ok bool) {
	if v == "" {
		return 0, 0, false
	}
	parts := strings.Split(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || n < 0 {
		return 0, 0, false
	}
	for _, p := range parts[1:] {
		if s, ok := strings.CutPrefix(strings.TrimSpace(p), "w="); ok {
			if w, err := strconv.Atoi(s); err == nil && w > 0 {
				window = time.Duration(w) * time.Second
			}
		}
	}
	return n, window, true
}

// maxErrorBody bounds how much of an error answer is read to classify it.
const maxErrorBody = 64 << 10

// isQuota429 reports whether resp is a quota refusal, which waiting
// briefly does not cure: a 429 whose body says TOOMANYREQUESTS, or that
// names no Retry-After. The body is read (up to maxErrorBody) and put back.
func isQuota429(resp *http.Response) bool {
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	if bytes.Contains(b, []byte("TOOMANYREQUESTS")) {
		return true
	}
	_, ok := retryAfter(resp.Header.Get("Retry-After"))
	return !ok
}
