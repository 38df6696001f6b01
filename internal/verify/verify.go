package verify

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
)

// Verdicts of a PlatformResult and a Result.
const (
	// Verified: the claims agree and no finding is an error or unknown.
	Verified = "verified"
	// Mismatch: at least one finding of severity error.
	Mismatch = "mismatch"
	// Unknown: the verifier could not tell (a layer could not be read,
	// a cap was hit), and no finding is an error.
	Unknown = "unknown"
	// Missing: a platform asked for with Options.Platforms is not in the image.
	Missing = "missing"
)

// Result is the verdict on one image reference.
type Result struct {
	// Ref is the reference as given.
	Ref string `json:"ref"`
	// Digest is the digest of what Ref named (index or manifest).
	Digest string `json:"digest,omitempty"`
	// Verdict is the worst of the platforms' verdicts.
	Verdict string `json:"verdict"`
	// Error is why the image could not be read at all; then Verdict is unknown.
	Error string `json:"error,omitempty"`
	// Platforms has one result per platform entry checked, in index order.
	Platforms []PlatformResult `json:"platforms"`
}

// PlatformResult is the verdict on one platform entry.
type PlatformResult struct {
	// Platform is the claim the binaries were judged against: the index
	// descriptor's platform, or the config's for a single image.
	Platform platform.Platform `json:"platform"`
	// Descriptor is the index descriptor's platform; nil for a single image.
	Descriptor *platform.Platform `json:"descriptor,omitempty"`
	// Config is the image config's os/architecture/variant.
	Config *platform.Platform `json:"config,omitempty"`
	// Digest is the image manifest's digest.
	Digest string `json:"digest,omitempty"`
	// Verdict is verified, mismatch, unknown or missing.
	Verdict string `json:"verdict"`
	// Error is why the binaries could not be judged.
	Error string `json:"error,omitempty"`
	// Findings are worst first.
	Findings []Finding `json:"findings,omitempty"`
	// Binaries counts the ELF (PE for windows) executables and shared
	// objects of the final filesystem per architecture.
	Binaries map[string]int `json:"binaries,omitempty"`
	// Layers is the number of layers read (or taken from the cache).
	Layers int `json:"layers"`
}

// Verifier verifies images through one registry client. It reads each
// distinct layer once at a time across all its callers, and at most Jobs
// layers at once. Safe for concurrent use.
type Verifier struct {
	client *registry.Client
	o      Options
	cache  layerCache
	slots  chan struct{}
	flight singleflight.Group
	log    *slog.Logger

	mu    sync.Mutex
	memo  map[string]*Layer // the last memoLayers records read, by digest
	order []string          // memo's keys, oldest first
}

// memoLayers is how many layer records a Verifier keeps in memory, so the
// platforms of one index (and images of one run) that share a layer read
// it once even without the disk cache.
const memoLayers = 64

// New returns a Verifier that reaches registries through client.
func New(client *registry.Client, o Options) *Verifier {
	if o.Jobs <= 0 {
		o.Jobs = DefaultJobs
	}
	o.Limits = o.Limits.withDefaults()
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Verifier{client: client, o: o, cache: layerCache{dir: o.CacheDir}, slots: make(chan struct{}, o.Jobs), log: log, memo: map[string]*Layer{}}
}

// Image verifies ref with a new Verifier; see [Verifier.Image].
func Image(ctx context.Context, client *registry.Client, ref string, o Options) (Result, error) {
	return New(client, o).Image(ctx, ref)
}

// Image verifies every real platform entry of ref (or those of
// Options.Platforms). The error is non-nil only when ref itself could not
// be read (bad reference, manifest unreachable); the Result then says
// unknown with the cause. Failures of one platform are in its result.
func (v *Verifier) Image(ctx context.Context, ref string) (Result, error) {
	res := Result{Ref: ref, Platforms: []PlatformResult{}}
	fail := func(err error) (Result, error) {
		res.Verdict, res.Error = Unknown, err.Error()
		return res, err
	}
	r, err := v.client.ParseReference(ref)
	if err != nil {
		return fail(err)
	}
	opts, err := v.client.RemoteOptions(ctx, r.Context())
	if err != nil {
		return fail(fmt.Errorf("%s: %w", ref, err))
	}
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", ref, err))
	}
	res.Digest = desc.Digest.String()
	if !desc.MediaType.IsIndex() {
		img, err := desc.Image()
		if err != nil {
			return fail(fmt.Errorf("%s: %w", ref, err))
		}
		res.Platforms = []PlatformResult{v.platform(ctx, img, nil, desc.Digest)}
		return v.finish(res), nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return fail(fmt.Errorf("%s: %w", ref, err))
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fail(fmt.Errorf("%s: %w", ref, err))
	}
	var entries []v1.Descriptor
	var nested []PlatformResult
	for _, m := range im.Manifests {
		if m.MediaType.IsIndex() {
			nested = append(nested, PlatformResult{Verdict: Unknown, Digest: m.Digest.String(), Error: "an index inside the index is not verified; verify it by digest"})
			continue
		}
		if isAttestation(m) || !m.MediaType.IsImage() {
			continue
		}
		if len(v.o.Platforms) > 0 && (m.Platform == nil || !wanted(v.o.Platforms, fromV1(*m.Platform))) {
			continue
		}
		entries = append(entries, m)
	}
	res.Platforms = make([]PlatformResult, len(entries))
	g, gctx := errgroup.WithContext(ctx)
	for i, m := range entries {
		g.Go(func() error {
			var claim *platform.Platform
			if m.Platform != nil {
				p := fromV1(*m.Platform)
				claim = &p
			}
			img, err := idx.Image(m.Digest)
			switch {
			case err != nil && claim != nil && registry.IsNotFound(err):
				res.Platforms[i] = dangling(*claim, m.Digest)
				return nil
			case err != nil:
				res.Platforms[i] = PlatformResult{Verdict: Unknown, Descriptor: claim, Digest: m.Digest.String(), Error: err.Error()}
				return nil
			}
			res.Platforms[i] = v.platform(gctx, img, claim, m.Digest)
			return nil
		})
	}
	_ = g.Wait()
	res.Platforms = append(res.Platforms, nested...)
	res.Platforms = append(res.Platforms, v.missing(res.Platforms)...)
	return v.finish(res), nil
}

// dangling is the result for an index entry claiming p that the registry
// does not have: a false claim, whatever the rest of the index holds.
func dangling(p platform.Platform, digest v1.Hash) PlatformResult {
	return PlatformResult{Platform: p, Descriptor: &p, Digest: digest.String(), Verdict: Mismatch, Findings: []Finding{{
		Severity: SeverityError, Check: CheckClaims, Layer: -1,
		Message: "the index lists " + p.String() + " but the registry does not have that image (a dangling entry)",
	}}}
}

// Images verifies refs, at most jobs at once, and returns their results
// in order; an image that could not be read is an Unknown result with its
// cause.
func (v *Verifier) Images(ctx context.Context, refs []string, jobs int) []Result {
	results := make([]Result, len(refs))
	var g errgroup.Group
	g.SetLimit(max(jobs, 1))
	for i, ref := range refs {
		g.Go(func() error {
			results[i], _ = v.Image(ctx, ref)
			return nil
		})
	}
	_ = g.Wait()
	return results
}

// missing returns a Missing result for each asked platform no entry has.
func (v *Verifier) missing(have []PlatformResult) []PlatformResult {
	var out []PlatformResult
	for _, want := range v.o.Platforms {
		found := false
		for _, h := range have {
			found = found || h.Platform.Satisfies(want) || (h.Descriptor != nil && h.Descriptor.Satisfies(want))
		}
		if !found {
			out = append(out, PlatformResult{Platform: want, Verdict: Missing, Error: "the image has no " + want.String() + " entry"})
		}
	}
	return out
}

// finish sets the image verdict: the worst of its platforms', or unknown
// when there are none.
func (v *Verifier) finish(res Result) Result {
	if len(res.Platforms) == 0 {
		res.Verdict, res.Error = Unknown, "the index has no image entries to verify"
		return res
	}
	res.Verdict = Verified
	for _, p := range res.Platforms {
		res.Verdict = worseVerdict(res.Verdict, p.Verdict)
	}
	return res
}

// worseVerdict returns the worse of a and b: mismatch and missing beat
// unknown, which beats verified.
func worseVerdict(a, b string) string {
	rank := map[string]int{Mismatch: 0, Missing: 1, Unknown: 2, Verified: 3}
	if rank[b] < rank[a] {
		return b
	}
	return a
}

// platform verifies one image whose index descriptor claims claim (nil
// for a single image).
func (v *Verifier) platform(ctx context.Context, img v1.Image, claim *platform.Platform, digest v1.Hash) PlatformResult {
	pr := PlatformResult{Descriptor: claim, Digest: digest.String()}
	unknown := func(err error) PlatformResult {
		pr.Verdict, pr.Error = Unknown, err.Error()
		return pr
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return unknown(fmt.Errorf("reading the config: %w", err))
	}
	cfg := platform.Normalize(platform.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant, OSVersion: cf.OSVersion})
	pr.Config = &cfg
	pr.Platform = cfg
	if claim != nil {
		pr.Platform = *claim
	}
	if claim == nil && len(v.o.Platforms) > 0 && !wanted(v.o.Platforms, cfg) {
		pr.Verdict, pr.Error = Missing, "the image is "+cfg.String()+" only"
		return pr
	}
	if claim != nil && !sameClaim(*claim, cfg) {
		pr.Findings = append(pr.Findings, Finding{Severity: SeverityError, Check: CheckClaims, Layer: -1,
			Message: fmt.Sprintf("the index says %s but the image config says %s", claim, cfg)})
	}
	switch {
	case !v.o.ClaimsOnly:
		if err := v.binaries(ctx, img, cf, &pr); err != nil {
			pr.Error = err.Error()
		}
	case claim == nil:
		pr.Error = "a single-platform image makes one claim only (its config): nothing to compare without reading its layers"
	}
	pr.Verdict = Verified
	switch {
	case hasSeverity(pr.Findings, SeverityError):
		pr.Verdict = Mismatch
	case pr.Error != "" || hasSeverity(pr.Findings, SeverityUnknown):
		pr.Verdict = Unknown
	}
	return pr
}

// binaries reads the image's layers and judges its final filesystem.
func (v *Verifier) binaries(ctx context.Context, img v1.Image, cf *v1.ConfigFile, pr *PlatformResult) error {
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("reading the manifest: %w", err)
	}
	layers := make([]*Layer, len(m.Layers))
	g, gctx := errgroup.WithContext(ctx)
	for i, d := range m.Layers {
		g.Go(func() error {
			l, err := v.layer(gctx, img, d)
			if err != nil {
				return fmt.Errorf("layer %d (%s): %w", i, d.Digest, err)
			}
			layers[i] = l
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	pr.Layers = len(layers)
	j := &judge{
		fs:    merge(layers, v.o.Limits.SymlinkHops),
		allow: v.o.Allow,
		img: image{
			os: pr.Platform.OS, arch: pr.Platform.Architecture,
			entrypoint: cf.Config.Entrypoint, cmd: cf.Config.Cmd, env: cf.Config.Env, workdir: cf.Config.WorkingDir,
			createdBy: layerHistory(cf, len(layers)),
		},
	}
	findings, archs := j.run()
	pr.Findings = append(pr.Findings, findings...)
	pr.Binaries = archs
	return nil
}

// layer returns the record of one layer: from the cache, or read from the
// registry (one reader per digest at a time, at most Jobs at once).
func (v *Verifier) layer(ctx context.Context, img v1.Image, d v1.Descriptor) (*Layer, error) {
	key := d.Digest.String()
	val, err, _ := v.flight.Do(key, func() (any, error) {
		if l := v.recall(key); l != nil {
			return l, nil
		}
		if l := v.cache.get(key); l != nil && len(l.Entries) <= v.o.Limits.Entries && l.Uncompressed <= v.o.Limits.UncompressedBytes {
			v.log.Debug("verify: layer from cache", "digest", key)
			v.remember(l)
			return l, nil
		}
		select {
		case v.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-v.slots }()
		l, err := v.read(img, d)
		if err != nil {
			return nil, err
		}
		if err := v.cache.put(l); err != nil {
			v.log.Debug("verify: layer cache write failed", "digest", key, "err", err)
		}
		v.remember(l)
		return l, nil
	})
	if err != nil {
		return nil, err
	}
	return val.(*Layer), nil
}

// recall returns the in-memory record for digest, or nil.
func (v *Verifier) recall(digest string) *Layer {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.memo[digest]
}

// remember keeps l in memory, forgetting the oldest record past memoLayers.
func (v *Verifier) remember(l *Layer) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.memo[l.Digest]; ok {
		return
	}
	if len(v.order) >= memoLayers {
		delete(v.memo, v.order[0])
		v.order = v.order[1:]
	}
	v.memo[l.Digest] = l
	v.order = append(v.order, l.Digest)
}

// read streams one layer blob from the registry into its record.
func (v *Verifier) read(img v1.Image, d v1.Descriptor) (*Layer, error) {
	if d.Size > v.o.Limits.CompressedBytes {
		return nil, fmt.Errorf("%w: %d bytes > %d", ErrCompressedTooLarge, d.Size, v.o.Limits.CompressedBytes)
	}
	layer, err := img.LayerByDigest(d.Digest)
	if err != nil {
		return nil, err
	}
	rc, err := layer.Compressed() // checks size and digest as it is read
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	ra := newReadahead(rc, 4, 256<<10) // fetch and hash on one core, unpack on another
	defer func() { _ = ra.Close() }()
	l, err := readLayer(ra, d.Size, v.o.Limits)
	if err != nil {
		return nil, err
	}
	l.Digest = d.Digest.String()
	return l, nil
}

// layerHistory returns each layer's created_by from the config history
// (entries with empty_layer have no layer); nil when the history does not
// account for every layer.
func layerHistory(cf *v1.ConfigFile, n int) []string {
	var out []string
	for _, h := range cf.History {
		if !h.EmptyLayer {
			out = append(out, h.CreatedBy)
		}
	}
	if len(out) != n {
		return nil
	}
	return out
}

// hasSeverity reports whether some finding has severity sev.
func hasSeverity(fs []Finding, sev string) bool {
	for _, f := range fs {
		if f.Severity == sev {
			return true
		}
	}
	return false
}

// sameClaim compares two claims by os, architecture and variant.
func sameClaim(a, b platform.Platform) bool {
	a, b = platform.Normalize(a), platform.Normalize(b)
	return a.OS == b.OS && a.Architecture == b.Architecture && a.Variant == b.Variant
}

// wanted reports whether p is one of the asked platforms.
func wanted(ps []platform.Platform, p platform.Platform) bool {
	for _, w := range ps {
		if p.Satisfies(w) {
			return true
		}
	}
	return false
}

// fromV1 converts go-containerregistry's platform, normalised.
func fromV1(p v1.Platform) platform.Platform {
	return platform.Normalize(platform.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion})
}

// isAttestation reports whether an index entry is a buildx attestation
// manifest rather than an image of a platform.
func isAttestation(d v1.Descriptor) bool {
	if d.Annotations["vnd.docker.reference.type"] != "" {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}
