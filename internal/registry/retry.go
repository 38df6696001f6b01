package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// retryTransport retries a request on 429 with Retry-After, 5xx and
// connection resets with backoff and jitter, honouring Retry-After up to
// maxWait (a quota 429, see isQuota429, is not retried), and bounds each
// attempt (body included) by timeout. It sits under the auth transports, so
// pings and token requests are retried too.
type retryTransport struct {
	inner    http.RoundTripper
	attempts int
	maxWait  time.Duration
	timeout  time.Duration
	log      *slog.Logger
}

// baseBackoff is the wait before the second attempt; it doubles each time.
const baseBackoff = 250 * time.Millisecond

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 && req.Body != nil {
			if req.GetBody == nil {
				return nil, errors.New("cannot retry a request whose body cannot be replayed")
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
		resp, err := t.inner.RoundTrip(r.WithContext(ctx))
		retry, wait := t.decide(resp, err, attempt)
		if retry && attempt < t.attempts && t.fits(req.Context(), wait) {
			t.log.Debug("registry request retried",
				"method", req.Method, "url", redactURL(req), "attempt", attempt, "wait", wait, "reason", reason(resp, err))
			if resp != nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				_ = resp.Body.Close()
			}
			cancel()
			if err := sleep(req.Context(), wait); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			cancel()
			if ctx.Err() == context.DeadlineExceeded && req.Context().Err() == nil {
				err = fmt.Errorf("request timed out after %s: %w", t.timeout, err)
			}
			return nil, err
		}
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		return resp, nil
	}
}

// decide says whether the outcome of an attempt is worth another try, and
// how long to wait first.
func (t *retryTransport) decide(resp *http.Response, err error, attempt int) (bool, time.Duration) {
	backoff := t.backoff(attempt)
	if err != nil {
		return retryableErr(err), backoff
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		if isQuota429(resp) {
			return false, 0 // a used-up quota: waiting seconds does not help
		}
		d, _ := retryAfter(resp.Header.Get("Retry-After"))
		return true, min(d, t.maxWait)
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented &&
		resp.StatusCode != http.StatusHTTPVersionNotSupported:
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok && resp.StatusCode == http.StatusServiceUnavailable {
			return true, min(d, t.maxWait)
		}
		return true, backoff
	}
	return false, 0
}

// backoff is baseBackoff·2^(attempt-1), capped at maxWait, with jitter in
// [d/2, d].
func (t *retryTransport) backoff(attempt int) time.Duration {
	d := min(baseBackoff<<min(attempt-1, 16), t.maxWait)
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(half+1)
}

// fits reports whether waiting d still leaves time before ctx's deadline.
func (t *retryTransport) fits(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}

// retryableErr reports whether a transport error is a transient connection
// failure: a reset or a connection closed before the response.
func retryableErr(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

func reason(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// redactURL is the request URL without its query, which may carry
// credentials on token requests.
func redactURL(req *http.Request) string {
	u := *req.URL
	u.RawQuery, u.User = "", nil
	return u.String()
}

// cancelBody releases an attempt's timeout when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
