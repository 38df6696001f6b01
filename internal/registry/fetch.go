package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/archwaydev/archway/internal/lookup"
)

// scope is an authenticated transport for one repository: the registry is
// pinged once per Client, and a bearer token is fetched once per
// repository pull scope; both are reused for every later request.
type scope struct {
	repo   name.Repository
	scheme string
	client *http.Client
}

func (c *Client) scope(ctx context.Context, repo name.Repository) (*scope, error) {
	return c.scopes.get(ctx, repo.Name(), func() (*scope, error) {
		reg := repo.Registry
		ch, err := c.pings.get(ctx, reg.Name(), func() (*transport.Challenge, error) {
			return transport.Ping(ctx, reg, c.base)
		})
		if err != nil {
			return nil, fmt.Errorf("ping %s: %w", reg.RegistryStr(), err)
		}
		auth, err := c.auth(ctx, repo)
		if err != nil {
			return nil, err
		}
		tok := &transport.Token{}
		if strings.EqualFold(ch.Scheme, "bearer") {
			tok, err = transport.Exchange(ctx, reg, auth, c.base, []string{repo.Scope(transport.PullScope)}, ch)
			if err != nil {
				return nil, fmt.Errorf("token for %s: %w", repo.Name(), err)
			}
		}
		rt, err := transport.FromToken(reg, auth, c.base, ch, tok)
		if err != nil {
			return nil, fmt.Errorf("auth for %s: %w", repo.Name(), err)
		}
		s := &scope{repo: repo, scheme: "https", client: &http.Client{Transport: rt}}
		if ch.Insecure {
			s.scheme = "http"
		}
		return s, nil
	})
}

// auth returns the credentials for repo: WithBasicAuth for its registry,
// else the keychain's.
func (c *Client) auth(ctx context.Context, repo name.Repository) (authn.Authenticator, error) {
	for _, b := range c.o.basic {
		if b.registry == repo.RegistryStr() {
			return &authn.Basic{Username: b.user, Password: b.pass}, nil
		}
	}
	a, err := authn.Resolve(ctx, c.o.keychain, repo)
	if err != nil {
		return nil, &lookup.Error{Cause: lookup.CauseUnauthorized, Err: fmt.Errorf("reading credentials for %s: %w", repo.RegistryStr(), err)}
	}
	return a, nil
}

// get fetches /v2/<repo>/<kind>/<ref> with one GET and returns its body,
// read through the size cap, and headers. The transport retries failed
// requests; get retries when the connection breaks while the body is read.
func (c *Client) get(ctx context.Context, s *scope, kind, ref string, accept []string) ([]byte, http.Header, error) {
	for attempt := 1; ; attempt++ {
		b, hdr, err := c.getOnce(ctx, s, kind, ref, accept)
		var be *bodyError
		if err == nil || !errors.As(err, &be) || !retryableErr(be.err) || attempt >= c.o.attempts {
			return b, hdr, err
		}
		wait := c.retry.backoff(attempt)
		c.o.logger.Debug("registry body read retried", "kind", kind, "ref", ref, "attempt", attempt, "wait", wait, "err", be.err)
		if err := sleep(ctx, wait); err != nil {
			return nil, nil, err
		}
	}
}

// bodyError is a failure to read a response body.
type bodyError struct {
	what, ref string
	err       error
}

func (e *bodyError) Error() string { return fmt.Sprintf("reading %s %s: %v", e.what, e.ref, e.err) }
func (e *bodyError) Unwrap() error { return e.err }

func (c *Client) getOnce(ctx context.Context, s *scope, kind, ref string, accept []string) ([]byte, http.Header, error) {
	u := url.URL{Scheme: s.scheme, Host: s.repo.RegistryStr(),
		Path: fmt.Sprintf("/v2/%s/%s/%s", s.repo.RepositoryStr(), kind, ref)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	if len(accept) > 0 {
		req.Header.Set("Accept", strings.Join(accept, ", "))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, nil, err
	}
	max, what := c.o.maxBytes, strings.TrimSuffix(kind, "s")
	if resp.ContentLength > max {
		return nil, nil, &lookup.Error{Cause: lookup.CauseTooLarge,
			Err: fmt.Errorf("%s %s is %d bytes, over the %d-byte cap", what, ref, resp.ContentLength, max)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, nil, &bodyError{what: what, ref: ref, err: err}
	}
	if int64(len(b)) > max {
		return nil, nil, &lookup.Error{Cause: lookup.CauseTooLarge,
			Err: fmt.Errorf("%s %s is over the %d-byte cap", what, ref, max)}
	}
	return b, resp.Header, nil
}

// classify turns any failure into a *Error with its Cause.
func classify(err error) *lookup.Error {
	var e *lookup.Error
	if errors.As(err, &e) {
		cp := *e
		return &cp
	}
	if isTLSError(err) {
		// Before status codes: a ping's plain-HTTP fallback answering 400
		// is not the story when the TLS attempt failed verification.
		return &lookup.Error{Cause: lookup.CauseNetwork, Err: err}
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return &lookup.Error{Cause: statusCause(te.StatusCode), StatusCode: te.StatusCode, Err: err}
	}
	return &lookup.Error{Cause: errCause(err), Err: err}
}

func statusCause(code int) lookup.Cause {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return lookup.CauseUnauthorized
	case code == http.StatusNotFound:
		return lookup.CauseNotFound
	case code == http.StatusTooManyRequests:
		return lookup.CauseRateLimited
	case code >= 500:
		return lookup.CauseServerError
	}
	return lookup.CauseUnknown
}

func isTLSError(err error) bool {
	var (
		cert *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		hn   x509.HostnameError
		ci   x509.CertificateInvalidError
		rh   tls.RecordHeaderError
	)
	return errors.As(err, &cert) || errors.As(err, &ua) || errors.As(err, &hn) ||
		errors.As(err, &ci) || errors.As(err, &rh)
}

func errCause(err error) lookup.Cause {
	var (
		ne  net.Error
		op  *net.OpError
		dns *net.DNSError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return lookup.CauseTimeout
	case errors.As(err, &ne) && ne.Timeout():
		return lookup.CauseTimeout
	case errors.Is(err, context.Canceled):
		return lookup.CauseUnknown
	case errors.As(err, &op), errors.As(err, &dns), isTLSError(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return lookup.CauseNetwork
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"),
		strings.Contains(err.Error(), "connection reset"),
		strings.Contains(err.Error(), "connection refused"):
		return lookup.CauseNetwork
	}
	return lookup.CauseUnknown
}
