package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
)

// manifestAccept is the Accept header of a manifest GET: every kind this
// package reads.
var manifestAccept = []string{
	string(types.OCIImageIndex),
	string(types.DockerManifestList),
	string(types.OCIManifestSchema1),
	string(types.DockerManifestSchema2),
	string(types.DockerManifestSchema1Signed),
	string(types.DockerManifestSchema1),
}

// attestationAnnotation marks buildx attestation manifests in an index.
const attestationAnnotation = "vnd.docker.reference.type"

// maxIndexDepth bounds how deeply nested indexes are followed.
const maxIndexDepth = 4

// maxChildFetches bounds the child manifests (nested indexes, images whose
// platform the index does not declare) one lookup reads: each distinct
// digest counts once. Real indexes need a few dozen at most.
const maxChildFetches = 256

// lookup resolves r: from the cache when it can; else, for a tag whose
// cached digest expired (or that has a mirror), with a HEAD at the origin
// first, which may leave nothing more to fetch; then by digest from each
// mirror in turn, and last from the origin with one manifest GET for an
// index and two (manifest + config) for a single-platform image.
func (c *Client) lookup(ctx context.Context, r name.Reference) lookup.Result {
	want, stale := "", "" // the digest the manifest must have; an expired tag's
	if d, ok := r.(name.Digest); ok {
		want = d.DigestStr()
	} else if d, fresh := c.cache.tag(r.Name()); fresh {
		want = d
	} else {
		stale = d
	}
	if want != "" {
		if v, ok := c.cache.digest(want); ok {
			c.o.logger.Debug("registry cache hit", "ref", r.Name(), "digest", want)
			return cachedResult(r, v)
		}
	}
	origin := r.Context()
	mirrors := c.o.mirrors[origin.RegistryStr()]
	if tag, ok := r.(name.Tag); ok && want == "" && (stale != "" || len(mirrors) > 0) {
		d, err := c.revalidate(ctx, tag)
		if err == nil {
			if v, ok := c.cache.digest(d); ok {
				c.o.logger.Debug("registry tag revalidated", "ref", r.Name(), "digest", d, "moved", d != stale)
				c.cache.putTag(r.Name(), d)
				return cachedResult(r, v)
			}
			want = d
		} else {
			c.o.logger.Debug("registry HEAD failed", "ref", r.Name(), "err", scrub(err))
		}
	}
	for _, m := range mirrors {
		if want == "" && !m.resolve {
			continue
		}
		res, err := c.viaMirror(ctx, r, m, want)
		if err == nil {
			return res
		}
		c.notes.add("mirror "+m.host, fmt.Sprintf("mirror %s (from %s) failed for %s: %v; asking %s instead",
			m.host, m.source, r.Name(), scrub(err), origin.RegistryStr()))
	}
	if err := c.refuse(ctx, origin); err != nil {
		return fail(r, err)
	}
	s, err := c.scope(ctx, origin)
	if err != nil {
		return fail(r, err)
	}
	res, err := c.resolve(ctx, s, r, want)
	if err != nil {
		return fail(r, err)
	}
	return res
}

// revalidate HEADs a tag at its origin for its digest. A HEAD spends no
// pull, so a used-up quota does not stop it; an open breaker does.
func (c *Client) revalidate(ctx context.Context, tag name.Tag) (string, error) {
	if err := c.breakers.refuse(tag.Context().RegistryStr()); err != nil {
		return "", err
	}
	s, err := c.scope(ctx, tag.Context())
	if err != nil {
		return "", err
	}
	return c.head(ctx, s, tag.TagStr())
}

// viaMirror resolves r at mirror m: by digest want (verified), or by tag
// when want is empty and m may resolve tags.
func (c *Client) viaMirror(ctx context.Context, r name.Reference, m mirror, want string) (lookup.Result, error) {
	var opts []name.Option
	if m.insecure {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(m.host+"/"+r.Context().RepositoryStr(), opts...)
	if err != nil {
		return lookup.Result{}, err
	}
	if err := c.refuse(ctx, repo); err != nil {
		return lookup.Result{}, err
	}
	s, err := c.scope(ctx, repo)
	if err != nil {
		return lookup.Result{}, err
	}
	return c.resolve(ctx, s, r, want)
}

// refuse fails at once when repo's registry is known to be unusable: its
// circuit breaker is open, or its pull quota is down to the reserve.
func (c *Client) refuse(ctx context.Context, repo name.Repository) error {
	host := repo.RegistryStr()
	if err := c.breakers.refuse(host); err != nil {
		return err
	}
	auth, err := c.repoAuth(ctx, repo)
	if err != nil {
		return nil // scope reports it
	}
	key := quotaKey(host, credID(auth))
	if err := c.quotas.refuse(key, host); err != nil {
		c.quotaRefused(key, host)
		return err
	}
	return nil
}

// resolve fetches r's manifest in scope s (by digest want when set, else
// by r's own tag or digest), reads its platforms and caches them.
func (c *Client) resolve(ctx context.Context, s *scope, r name.Reference, want string) (lookup.Result, error) {
	ident := r.Identifier()
	if want != "" {
		ident = want // fetch by digest, so the content is checked against it
	}
	m, err := c.manifest(ctx, s, ident, want)
	if err != nil {
		return lookup.Result{}, err
	}
	var (
		entries []lookup.Entry
		kind    lookup.Kind
	)
	if v, ok := c.cache.digest(m.digest); ok {
		// A tag that moved to content already known: no config GET.
		entries, kind = v.Entries, v.Kind
	} else {
		entries, kind, err = c.platforms(ctx, &indexWalk{s: s, done: map[string]childResult{}}, m, 0)
		if err != nil {
			return lookup.Result{}, err
		}
		c.cache.putDigest(cached{Digest: m.digest, Kind: kind, MediaType: string(m.mediaType),
			Entries: entries, NoRunnable: len(entries) == 0})
	}
	if _, isTag := r.(name.Tag); isTag {
		c.cache.putTag(r.Name(), m.digest)
	}
	return lookup.Result{Name: r.Name(), Digest: m.digest, Kind: kind, MediaType: string(m.mediaType),
		Entries: entries, NoRunnable: len(entries) == 0}, nil
}

func cachedResult(r name.Reference, v cached) lookup.Result {
	return lookup.Result{Name: r.Name(), Digest: v.Digest, Kind: v.Kind, MediaType: v.MediaType,
		Entries: v.Entries, NoRunnable: v.NoRunnable}
}

// fetched is a manifest as the registry served it, its digest verified.
type fetched struct {
	body      []byte
	mediaType types.MediaType
	digest    string
}

// manifest GETs a manifest by tag or digest and verifies its digest against
// want (when set) and the registry's Docker-Content-Digest header.
func (c *Client) manifest(ctx context.Context, s *scope, ident, want string) (fetched, error) {
	body, hdr, err := c.get(ctx, s, "manifests", ident, manifestAccept)
	if err != nil {
		return fetched{}, err
	}
	mt := mediaTypeOf(body, types.MediaType(hdr.Get("Content-Type")))
	digests := contentDigests(body, mt)
	if want != "" && !contains(digests, want) {
		return fetched{}, &lookup.Error{Cause: lookup.CauseDigestMismatch,
			Err: fmt.Errorf("manifest %s has digest %s, want %s", ident, digests[0], want)}
	}
	if h := hdr.Get("Docker-Content-Digest"); h != "" && !contains(digests, h) {
		return fetched{}, &lookup.Error{Cause: lookup.CauseDigestMismatch,
			Err: fmt.Errorf("manifest %s has digest %s, registry says %s", ident, digests[0], h)}
	}
	d := digests[len(digests)-1]
	if want != "" {
		d = want
	}
	return fetched{body: body, mediaType: mt, digest: d}, nil
}

// platforms reads the platforms of a fetched manifest: from an index's
// descriptors (following nested indexes), from a single-platform
// manifest's config blob, or from a schema 1 manifest's architecture.
func (c *Client) platforms(ctx context.Context, w *indexWalk, m fetched, depth int) ([]lookup.Entry, lookup.Kind, error) {
	switch {
	case m.mediaType.IsIndex():
		entries, err := c.indexPlatforms(ctx, w, m, depth)
		return entries, lookup.KindIndex, err
	case m.mediaType.IsImage():
		p, err := c.imagePlatform(ctx, w.s, m)
		if err != nil {
			return nil, "", err
		}
		return []lookup.Entry{{Platform: p, Digest: m.digest}}, lookup.KindManifest, nil
	case m.mediaType.IsSchema1():
		p, err := schema1Platform(m.body)
		if err != nil {
			return nil, "", err
		}
		return []lookup.Entry{{Platform: p, Digest: m.digest}}, lookup.KindManifest, nil
	}
	return nil, "", &lookup.Error{Cause: lookup.CauseBadManifest, Err: fmt.Errorf("manifest %s: unsupported media type %q", m.digest, m.mediaType)}
}

// indexWalk is the state of one index lookup: the child manifests read
// so far (each distinct digest once, however often the index lists it) and
// how many were fetched, against maxChildFetches.
type indexWalk struct {
	s       *scope
	fetches int
	done    map[string]childResult
}

type childResult struct {
	entries []lookup.Entry
	err     error
}

// indexPlatforms reads an index's runnable platforms: image manifests and
// nested indexes, never attestations or other artifacts. An index whose
// entries are all artifacts yields no entries and no error: it runs
// nowhere.
func (c *Client) indexPlatforms(ctx context.Context, w *indexWalk, m fetched, depth int) ([]lookup.Entry, error) {
	idx, err := v1.ParseIndexManifest(bytes.NewReader(m.body))
	if err != nil {
		return nil, badManifest(m, err)
	}
	if len(idx.Manifests) == 0 {
		return nil, &lookup.Error{Cause: lookup.CauseBadManifest, Err: fmt.Errorf("index %s lists no manifest", m.digest)}
	}
	var entries []lookup.Entry
	seen := map[lookup.Entry]bool{}
	add := func(es ...lookup.Entry) {
		for _, e := range es {
			if !seen[e] {
				seen[e] = true
				entries = append(entries, e)
			}
		}
	}
	for _, d := range idx.Manifests {
		if !runnable(d) {
			continue // an attestation, signature, SBOM or other artifact
		}
		if d.MediaType.IsIndex() && depth >= maxIndexDepth {
			return nil, &lookup.Error{Cause: lookup.CauseBadManifest, Err: fmt.Errorf("index %s: indexes nested deeper than %d", m.digest, maxIndexDepth)}
		}
		if p, ok := descPlatform(d); ok && !d.MediaType.IsIndex() {
			add(lookup.Entry{Platform: p, Digest: d.Digest.String()})
			continue
		}
		// A nested index, or an image whose platform the index does not
		// say: read the child itself.
		nested, err := c.child(ctx, w, m, d, depth+1)
		if err != nil {
			return nil, err
		}
		add(nested...)
	}
	return entries, nil
}

// child reads the platforms of index entry d, once per digest in a
// lookup, from the cache when known.
func (c *Client) child(ctx context.Context, w *indexWalk, parent fetched, d v1.Descriptor, depth int) ([]lookup.Entry, error) {
	key := d.Digest.String()
	if r, ok := w.done[key]; ok {
		return r.entries, r.err
	}
	if v, ok := c.cache.digest(key); ok {
		w.done[key] = childResult{entries: v.Entries}
		return v.Entries, nil
	}
	if w.fetches >= maxChildFetches {
		return nil, &lookup.Error{Cause: lookup.CauseBadManifest,
			Err: fmt.Errorf("index %s: more than %d child manifests to read", parent.digest, maxChildFetches)}
	}
	w.fetches++
	entries, err := c.readChild(ctx, w, parent, d, depth)
	w.done[key] = childResult{entries: entries, err: err}
	return entries, err
}

func (c *Client) readChild(ctx context.Context, w *indexWalk, parent fetched, d v1.Descriptor, depth int) ([]lookup.Entry, error) {
	child, err := c.manifest(ctx, w.s, d.Digest.String(), d.Digest.String())
	if err != nil {
		return nil, err
	}
	if child.mediaType.IsIndex() != d.MediaType.IsIndex() {
		return nil, &lookup.Error{Cause: lookup.CauseBadManifest,
			Err: fmt.Errorf("index %s: entry %s is %s, the index says %s", parent.digest, d.Digest, child.mediaType, d.MediaType)}
	}
	entries, kind, err := c.platforms(ctx, w, child, depth)
	if err != nil {
		return nil, err
	}
	c.cache.putDigest(cached{Digest: child.digest, Kind: kind, MediaType: string(child.mediaType),
		Entries: entries, NoRunnable: len(entries) == 0})
	return entries, nil
}

// runnable reports whether an index entry is something a container
// runtime runs: an image manifest (OCI, Docker schema 2 or 1) or a nested
// index. Attestations, signatures, SBOMs and any other artifact are not,
// whatever platform they declare (an artifactType other than an image
// config's marks one: go-containerregistry writes the config media type
// there for images); so is an entry of no media type, which containerd
// skips too.
func runnable(d v1.Descriptor) bool {
	if isAttestation(d) || (d.ArtifactType != "" && !types.MediaType(d.ArtifactType).IsConfig()) {
		return false
	}
	switch d.MediaType {
	case types.OCIImageIndex, types.DockerManifestList,
		types.OCIManifestSchema1, types.DockerManifestSchema2,
		types.DockerManifestSchema1, types.DockerManifestSchema1Signed:
		return true
	}
	return false
}

// imagePlatform reads a single-platform image's platform from its config
// blob; it is never assumed.
func (c *Client) imagePlatform(ctx context.Context, s *scope, m fetched) (platform.Platform, error) {
	man, err := v1.ParseManifest(bytes.NewReader(m.body))
	if err != nil {
		return platform.Platform{}, badManifest(m, err)
	}
	cd := man.Config
	if cd.MediaType != "" && !cd.MediaType.IsConfig() {
		return platform.Platform{}, &lookup.Error{Cause: lookup.CauseBadManifest,
			Err: fmt.Errorf("manifest %s: config media type %q is not an image config", m.digest, cd.MediaType)}
	}
	if cd.Digest.Algorithm != "sha256" || cd.Digest.Hex == "" {
		return platform.Platform{}, &lookup.Error{Cause: lookup.CauseBadManifest,
			Err: fmt.Errorf("manifest %s: config digest %q is not sha256", m.digest, cd.Digest)}
	}
	if cd.Size > c.o.maxBytes {
		return platform.Platform{}, &lookup.Error{Cause: lookup.CauseTooLarge,
			Err: fmt.Errorf("config %s is %d bytes, over the %d-byte cap", cd.Digest, cd.Size, c.o.maxBytes)}
	}
	body, _, err := c.get(ctx, s, "blobs", cd.Digest.String(), nil)
	if err != nil {
		return platform.Platform{}, err
	}
	if got := sha256Digest(body); got != cd.Digest.String() {
		return platform.Platform{}, &lookup.Error{Cause: lookup.CauseDigestMismatch,
			Err: fmt.Errorf("config blob has digest %s, want %s", got, cd.Digest)}
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(body))
	if err != nil {
		return platform.Platform{}, &lookup.Error{Cause: lookup.CauseBadManifest, Err: fmt.Errorf("config %s: %w", cd.Digest, err)}
	}
	if cfg.OS == "" || cfg.Architecture == "" {
		return platform.Platform{}, &lookup.Error{Cause: lookup.CauseBadManifest,
			Err: fmt.Errorf("config %s names no platform (os %q, architecture %q)", cd.Digest, cfg.OS, cfg.Architecture)}
	}
	return platform.Normalize(platform.Platform{OS: cfg.OS, Architecture: cfg.Architecture,
		Variant: cfg.Variant, OSVersion: cfg.OSVersion}), nil
}

// descPlatform is the platform an index entry declares, when it declares
// both OS and architecture.
func descPlatform(d v1.Descriptor) (platform.Platform, bool) {
	if d.Platform == nil || d.Platform.OS == "" || d.Platform.Architecture == "" {
		return platform.Platform{}, false
	}
	return platform.Normalize(platform.Platform{OS: d.Platform.OS, Architecture: d.Platform.Architecture,
		Variant: d.Platform.Variant, OSVersion: d.Platform.OSVersion}), true
}

// isAttestation reports whether an index entry is an attestation (buildx
// provenance or SBOM) rather than a platform.
func isAttestation(d v1.Descriptor) bool {
	if d.Annotations[attestationAnnotation] != "" {
		return true
	}
	return d.Platform != nil && (d.Platform.OS == "unknown" || d.Platform.Architecture == "unknown")
}

// schema1Platform reads a Docker schema 1 manifest's architecture field.
// Schema 1 cannot describe Windows images; the OS is read from the newest
// history entry when it names one, else linux.
func schema1Platform(body []byte) (platform.Platform, error) {
	var m struct {
		Architecture string `json:"architecture"`
		History      []struct {
			V1Compatibility string `json:"v1Compatibility"`
		} `json:"history"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return platform.Platform{}, &lookup.Error{Cause: lookup.CauseBadManifest, Err: fmt.Errorf("schema 1 manifest: %w", err)}
	}
	if m.Architecture == "" {
		return platform.Platform{}, &lookup.Error{Cause: lookup.CauseBadManifest, Err: fmt.Errorf("schema 1 manifest has no architecture")}
	}
	p := platform.Platform{OS: "linux", Architecture: m.Architecture}
	if len(m.History) > 0 {
		var h struct {
			OS string `json:"os"`
		}
		if json.Unmarshal([]byte(m.History[0].V1Compatibility), &h) == nil && h.OS != "" {
			p.OS = h.OS
		}
	}
	return platform.Normalize(p), nil
}

// mediaTypeOf is the manifest's own mediaType field when it has one, else
// the Content-Type header, else schema 1 when schemaVersion says so.
func mediaTypeOf(body []byte, header types.MediaType) types.MediaType {
	var probe struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     types.MediaType `json:"mediaType"`
		Manifests     json.RawMessage `json:"manifests"`
		Config        json.RawMessage `json:"config"`
		Signatures    json.RawMessage `json:"signatures"`
	}
	_ = json.Unmarshal(body, &probe)
	if probe.MediaType != "" {
		return probe.MediaType
	}
	if mt, _, _ := strings.Cut(string(header), ";"); mt != "" && mt != "application/json" && mt != "application/octet-stream" && mt != "text/plain" {
		return types.MediaType(strings.TrimSpace(mt))
	}
	switch {
	case probe.SchemaVersion == 1 && probe.Signatures != nil:
		return types.DockerManifestSchema1Signed
	case probe.SchemaVersion == 1:
		return types.DockerManifestSchema1
	case probe.Manifests != nil:
		return types.OCIImageIndex
	case probe.Config != nil:
		return types.OCIManifestSchema1
	}
	return header
}

// contentDigests are the digests a manifest body may rightly have: its
// sha256, and for a signed schema 1 manifest the digest of its payload
// without signatures (what registries report). The last is canonical.
func contentDigests(body []byte, mt types.MediaType) []string {
	ds := []string{sha256Digest(body)}
	if mt == types.DockerManifestSchema1Signed {
		if p, ok := schema1Payload(body); ok {
			ds = append(ds, sha256Digest(p))
		}
	}
	return ds
}

// schema1Payload strips the JWS signatures from a signed schema 1 manifest,
// as the protected header's formatLength and formatTail describe.
func schema1Payload(body []byte) ([]byte, bool) {
	var m struct {
		Signatures []struct {
			Protected string `json:"protected"`
		} `json:"signatures"`
	}
	if json.Unmarshal(body, &m) != nil || len(m.Signatures) == 0 {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(m.Signatures[0].Protected, "="))
	if err != nil {
		return nil, false
	}
	var h struct {
		FormatLength int    `json:"formatLength"`
		FormatTail   string `json:"formatTail"`
	}
	if json.Unmarshal(raw, &h) != nil || h.FormatLength <= 0 || h.FormatLength > len(body) {
		return nil, false
	}
	tail, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(h.FormatTail, "="))
	if err != nil {
		return nil, false
	}
	return append(append([]byte{}, body[:h.FormatLength]...), tail...), true
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func badManifest(m fetched, err error) *lookup.Error {
	return &lookup.Error{Cause: lookup.CauseBadManifest, Err: fmt.Errorf("manifest %s (%s): %w", m.digest, m.mediaType, err)}
}
