// Package registry answers "which platforms does image X support?" by
// reading indexes, single-platform manifests and their config blobs from
// OCI and Docker registries with go-containerregistry: with real auth,
// bounded concurrency, deduplication, retries, size caps, digest
// verification and an on-disk cache keyed by digest.
//
// A lookup never turns a failure into "unsupported": a failed lookup is a
// Result with Err set, whose Cause says why.
//
// What a lookup reads:
//   - An index (OCI image index or Docker manifest list): the platforms of
//     its runnable descriptors, in order. Only image manifests (OCI, Docker
//     schema 2 and 1) and nested indexes are runnable: attestations
//     (unknown/unknown, or the vnd.docker.reference.type annotation),
//     signatures, SBOMs and any other artifact (another media type, or an
//     artifactType that is not an image config) are not platforms, whatever
//     platform they declare. An index of artifacts alone is an answer
//     (Result.NoRunnable): it runs nowhere. Windows entries keep their OS
//     and os.version; nested indexes are followed (4 deep at most); an
//     entry that declares no platform is read from its own config. Each
//     child manifest is read once per Client however often indexes list
//     it, and at most 256 distinct ones per lookup.
//   - A dangling entry (an index lists linux/arm64, but that child is
//     gone) counts as its platform: reading every child would cost a GET
//     each, past the one-GET-per-index floor. `archway verify` (a false
//     claim, mismatch) and `archway index inspect` read the children and
//     say so.
//   - A single-platform manifest (OCI or Docker schema 2): the platform in
//     its config blob, never assumed. Docker schema 1: its architecture.
//
// The request budget, per Client: one /v2/ ping per registry, one bearer
// token per repository pull scope (go-containerregistry's transport.Ping,
// Exchange and FromToken; the transport is kept and reused), then one
// manifest GET per index image and two (manifest, config blob) per
// single-platform image. A cold lookup sends no HEAD. Identical
// references, and spellings of the same canonical reference, are looked up
// once.
//
// Registries as they are:
//   - Pull quotas: a registry that reports ratelimit-limit and
//     ratelimit-remaining (Docker Hub: "100;w=21600") has its budget kept
//     per registry and credentials. The first manifest GET there goes
//     alone; later ones run while the pulls left after every GET in flight
//     stay above WithPullReserve; then lookups fail at once as
//     CauseRateLimited and Notes says once what the quota is and how to
//     raise it. A quota 429 (TOOMANYREQUESTS, or no Retry-After) is not
//     retried; a minute later one GET probes the quota alone again.
//   - Mirrors (WithMirror, WithDockerDaemonConfig, WithContainerdHostsDir)
//     are asked for the origin's repository path: a tag is resolved with a
//     HEAD at the origin (Docker Hub does not meter HEADs), the manifest and
//     config are fetched by digest from the mirror and verified; a failing
//     mirror is noted once and the origin asked.
//   - A tag whose cached digest expired is revalidated with a HEAD: the
//     same digest (or any digest already cached) answers with no GET.
//   - WithJobsPerRegistry bounds requests in flight per host; after
//     WithCircuitBreaker's count of consecutive timeouts, 5xx or network
//     failures, a host's lookups fail at once as CauseUnavailable.
//   - Stats and RegistryState tell what was spent per host: requests,
//     pulls, HEADs, the quota as last seen, breaker state and trips.
//
// The cache (WithCacheDir, default os.UserCacheDir()/archway) maps a
// manifest digest to its platforms forever (content-addressed) and a tag to
// a digest for WithTagTTL (default 1h): a digest reference whose platforms
// are cached is answered with no request at all. Cache files are written
// atomically; unreadable or corrupt ones are ignored.
//
// Every manifest's digest is checked against the digest asked for (the
// reference's, or an index entry's) and the registry's Docker-Content-Digest
// header, and a config blob against its descriptor. Manifests and configs
// over WithMaxManifestBytes are refused without being read whole. 429 with
// Retry-After, 5xx and connection resets are retried (WithRetry) with backoff and jitter,
// honouring Retry-After up to the cap; each request is bounded by
// WithRequestTimeout and by the caller's ctx.
//
// For a long-running server (the admission webhook) the package also has
// MemCache, a bounded in-memory cache of lookups with one request in flight
// per reference, keyed by the credentials used (anonymous lookups shared,
// private ones only with holders of the same credentials, by hash); and
// PullSecretLookups, which gives each pod the Credentials the kubelet would
// pull with: its imagePullSecrets and its service account's, read from the
// API server, ahead of a fallback keychain.
//
// Servers' bodies may echo credentials (a proxy's error page reflecting
// the request headers, a token endpoint quoting the request): error bodies
// are redacted as they arrive (Authorization, Cookie and token values,
// Basic and Bearer credentials, JWTs, passwords in URLs), capped at 4 KiB,
// and an error quotes at most a 200-byte excerpt of one, its whole message
// at most 600 bytes.
package registry
