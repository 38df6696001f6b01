package registry

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
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
	quota  string // the quota key: registry and credentials
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
		auth, err := c.repoAuth(ctx, repo)
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
		cred := credID(auth)
		s := &scope{repo: repo, scheme: "https", client: &http.Client{Transport: rt},
			quota: quotaKey(reg.RegistryStr(), cred)}
		if reg.RegistryStr() == name.DefaultRegistry && cred == "anonymous" && len(c.o.mirrors[name.DefaultRegistry]) == 0 {
			c.notes.add("docker hub anonymous", "Docker Hub: these lookups are anonymous, and Docker Hub meters anonymous pulls per IP address "+
				"(each image lookup spends one; the quota is in its ratelimit-limit header). To raise it, log in (docker login, or --username with --password-stdin), "+
				"or pull through a mirror (--registry-mirror docker.io=MIRROR)")
		}
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

// repoAuth is auth, resolved once per repository.
func (c *Client) repoAuth(ctx context.Context, repo name.Repository) (authn.Authenticator, error) {
	return c.auths.get(ctx, repo.Name(), func() (authn.Authenticator, error) { return c.auth(ctx, repo) })
}

// credID names credentials in a quota key without holding them: anonymous,
// or a hash of the secrets.
func credID(a authn.Authenticator) string {
	if a == authn.Anonymous {
		return "anonymous"
	}
	cfg, err := a.Authorization()
	if err != nil || cfg == nil {
		return "unknown"
	}
	if *cfg == (authn.AuthConfig{}) {
		return "anonymous"
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{cfg.Username, cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken}, "\x00")))
	return hex.EncodeToString(sum[:8])
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
		c.o.logger.Debug("registry body read retried", "kind", kind, "ref", ref, "attempt", attempt, "wait", wait, "err", scrub(be.err))
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

// getOnce sends one GET. A manifest GET passes the quota gate first: it
// is refused when the registry's pull quota is down to the reserve.
func (c *Client) getOnce(ctx context.Context, s *scope, kind, ref string, accept []string) ([]byte, http.Header, error) {
	done := func(http.Header, int, bool) {}
	if kind == "manifests" {
		var err error
		if done, err = c.quotas.acquire(ctx, s.quota, s.repo.RegistryStr()); err != nil {
			c.quotaRefused(s.quota, s.repo.RegistryStr())
			return nil, nil, err
		}
	}
	resp, err := c.send(ctx, s, http.MethodGet, kind, ref, accept)
	if err != nil {
		done(nil, 0, false)
		return nil, nil, err
	}
	defer resp.Body.Close()
	q429 := isQuota429(resp)
	done(resp.Header, resp.StatusCode, q429)
	if q429 {
		c.quotaRefused(s.quota, s.repo.RegistryStr())
		q, _ := c.quotas.snapshot(s.repo.RegistryStr())
		return nil, nil, &lookup.Error{Cause: lookup.CauseRateLimited, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("%s answered 429: %w", s.repo.RegistryStr(), &errQuota{registry: s.repo.RegistryStr(), q: q, reserve: c.quotas.reserve})}
	}
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

// send sends one request for /v2/<repo>/<kind>/<ref> in scope s.
func (c *Client) send(ctx context.Context, s *scope, method, kind, ref string, accept []string) (*http.Response, error) {
	u := url.URL{Scheme: s.scheme, Host: s.repo.RegistryStr(),
		Path: fmt.Sprintf("/v2/%s/%s/%s", s.repo.RepositoryStr(), kind, ref)}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if len(accept) > 0 {
		req.Header.Set("Accept", strings.Join(accept, ", "))
	}
	return s.client.Do(req)
}

// head resolves a tag to its digest with one manifest HEAD, which Docker
// Hub does not meter; the answer must carry Docker-Content-Digest.
func (c *Client) head(ctx context.Context, s *scope, tag string) (string, error) {
	m := c.quotas.mark(s.quota)
	resp, err := c.send(ctx, s, http.MethodHead, "manifests", tag, manifestAccept)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	c.quotas.observe(s.quota, m, resp.Header)
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return "", err
	}
	d := resp.Header.Get("Docker-Content-Digest")
	if alg, hexPart, ok := strings.Cut(d, ":"); !ok || alg != "sha256" || len(hexPart) != 64 || !isLowerAlnum(hexPart) {
		return "", &lookup.Error{Cause: lookup.CauseBadManifest, Err: fmt.Errorf("HEAD %s: no usable Docker-Content-Digest (%q)", tag, d)}
	}
	return d, nil
}

// classify turns any failure into a *lookup.Error with its Cause, its
// message scrubbed of secrets and long server bodies (scrub).
func classify(err error) (out *lookup.Error) {
	var e *lookup.Error
	if errors.As(err, &e) {
		cp := *e
		cp.Err = scrub(cp.Err)
		return &cp
	}
	defer func() { out.Err = scrub(out.Err) }()
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
