package registry

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// A server's body may echo what it was sent: a proxy's error page that
// reflects the request headers, a token endpoint that quotes the request.
// Errors quote at most a short excerpt of a body (maxExcerpt bytes), with
// credentials, tokens and cookies removed; error bodies are redacted as
// they arrive (redactTransport), so go-containerregistry's own errors
// cannot quote them either.

// maxExcerpt bounds how much of a server's body an error quotes.
const maxExcerpt = 200

// maxErrorMessage bounds a whole registry error message.
const maxErrorMessage = 600

// maxRedactedBody bounds an error body as the transport passes it on.
const maxRedactedBody = 4 << 10

const redacted = "[redacted]"

var secretPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Header lines, in any spelling: "Authorization: Basic …",
	// "Cookie=…", Go's map[Authorization:[…]], JSON "Authorization": […].
	// Everything after the name up to the end of the line goes.
	{regexp.MustCompile(`(?i)((?:proxy-)?authorization|(?:set-)?cookie|x-registry-auth|x-auth-token|x-api-key)(["']?\s*[:=]\s*)[^\r\n]*`), "${1}${2}" + redacted},
	// Scheme credentials anywhere: Basic, Bearer
	// (the HTTP spelling; "basic credentials" in prose is left).
	{regexp.MustCompile(`\b(Basic|Bearer|BASIC|BEARER)(\s+)[A-Za-z0-9._~+/=-]{4,}`), "${1}${2}" + redacted},
	// JWT-looking strings: base64url header "eyJ…" and a payload.
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?`), redacted},
	// JSON or form fields that hold secrets.
	{regexp.MustCompile(`(?i)("?(?:access_token|refresh_token|id_token|identitytoken|registrytoken|token|password|passwd|secret|client_secret|auth)"?\s*[:=]\s*)("[^"]*"|[^\s&,;}"]+)`), "${1}\"" + redacted + "\""},
	// Credentials in URLs: scheme://user:password@host.
	{regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@`), "${1}" + redacted + "@"},
}

// redactSecrets removes credentials, tokens and cookies from s.
func redactSecrets(s string) string {
	for _, p := range secretPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// excerpt is a short, redacted, one-line excerpt of a server's body.
func excerpt(body string) string {
	return truncate(strings.Join(strings.Fields(redactSecrets(body)), " "), maxExcerpt)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "… (cut)"
}

// bodyMarkers start a server body quoted in an error message (by
// go-containerregistry): the rest of the message is that body.
var bodyMarkers = []*regexp.Regexp{
	regexp.MustCompile(`unexpected status code \d{3} [^:]*: `),
	regexp.MustCompile(`no token in bearer response:\s*`),
}

// scrubMessage is an error message with any quoted body cut to an excerpt,
// secrets removed, and the whole bounded.
func scrubMessage(msg string) string {
	for _, m := range bodyMarkers {
		if loc := m.FindStringIndex(msg); loc != nil {
			msg = strings.TrimRight(msg[:loc[1]], " \t\r\n") + " " + excerpt(msg[loc[1]:])
			break
		}
	}
	return truncate(redactSecrets(msg), maxErrorMessage)
}

// scrubbed is an error whose message is scrubMessage of its cause's; the
// cause stays reachable with errors.As and errors.Is. The message is made
// once: a report of 100,000 workloads asks the error of their image for it
// 100,000 times.
type scrubbed struct {
	err  error
	once sync.Once
	msg  string
}

func (e *scrubbed) Error() string {
	e.once.Do(func() { e.msg = scrubMessage(e.err.Error()) })
	return e.msg
}
func (e *scrubbed) Unwrap() error { return e.err }

// scrub wraps err so that its message quotes no secret and no long body.
func scrub(err error) error {
	var s *scrubbed
	if err == nil || errors.As(err, &s) {
		return err
	}
	return &scrubbed{err: err}
}

// redactTransport redacts the bodies of error answers (status 400 and
// above) and bounds them, before anything reads them.
type redactTransport struct {
	inner http.RoundTripper
}

func (t *redactTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 || resp.Body == nil || req.Method == http.MethodHead {
		return resp, err
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxRedactedBody))
	_ = resp.Body.Close()
	if rerr != nil && len(b) == 0 {
		b = nil
	}
	clean := []byte(redactSecrets(string(b)))
	resp.Body = io.NopCloser(bytes.NewReader(clean))
	resp.ContentLength = int64(len(clean))
	resp.Header.Del("Content-Length")
	return resp, nil
}
