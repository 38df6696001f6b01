package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/archwaydev/archway/internal/lookup"
)

// cacheVersion is bumped when the file format changes; files of another
// version are ignored.
const cacheVersion = 1

// cached is what the cache knows about one manifest digest. Content is
// addressed by digest, so it is valid forever.
type cached struct {
	V         int            `json:"v"`
	Digest    string         `json:"digest"`
	Kind      lookup.Kind    `json:"kind"`
	MediaType string         `json:"mediaType"`
	Entries   []lookup.Entry `json:"entries"`
	// NoRunnable: an index of artifacts only (see lookup.Result).
	NoRunnable bool `json:"noRunnable,omitempty"`
}

// tagEntry maps a tag reference to a digest at a time.
type tagEntry struct {
	V      int       `json:"v"`
	Name   string    `json:"name"`
	Digest string    `json:"digest"`
	At     time.Time `json:"at"`
}

// cache holds digest → platforms forever and tag → digest for a TTL, in
// memory and (when dir is set) on disk. Disk writes are atomic; unreadable
// or corrupt files are ignored.
type cache struct {
	dir string // empty: memory only
	ttl time.Duration
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	digests map[string]cached
	tags    map[string]tagEntry
}

func newCache(dir string, ttl time.Duration, log *slog.Logger) *cache {
	return &cache{dir: dir, ttl: ttl, log: log, now: time.Now,
		digests: map[string]cached{}, tags: map[string]tagEntry{}}
}

// digest returns the cached platforms of a manifest digest.
func (c *cache) digest(d string) (cached, bool) {
	c.mu.Lock()
	v, ok := c.digests[d]
	c.mu.Unlock()
	if ok {
		return v, true
	}
	path, ok := c.digestPath(d)
	if !ok {
		return cached{}, false
	}
	if !c.read(path, &v) || v.V != cacheVersion || v.Digest != d || v.Kind == "" {
		return cached{}, false
	}
	c.mu.Lock()
	c.digests[d] = v
	c.mu.Unlock()
	return v, true
}

// tag returns the digest a tag reference pointed to when last seen, and
// whether that was within the TTL.
func (c *cache) tag(name string) (digest string, fresh bool) {
	c.mu.Lock()
	v, ok := c.tags[name]
	c.mu.Unlock()
	if !ok && c.dir != "" {
		ok = c.read(c.tagPath(name), &v) && v.V == cacheVersion && v.Name == name && v.Digest != ""
		if ok {
			c.mu.Lock()
			c.tags[name] = v
			c.mu.Unlock()
		}
	}
	if !ok {
		return "", false
	}
	age := c.now().Sub(v.At)
	return v.Digest, c.ttl > 0 && age >= 0 && age <= c.ttl
}

func (c *cache) putDigest(v cached) {
	v.V = cacheVersion
	c.mu.Lock()
	c.digests[v.Digest] = v
	c.mu.Unlock()
	if path, ok := c.digestPath(v.Digest); ok {
		c.write(path, v)
	}
}

func (c *cache) putTag(name, digest string) {
	v := tagEntry{V: cacheVersion, Name: name, Digest: digest, At: c.now().UTC()}
	c.mu.Lock()
	c.tags[name] = v
	c.mu.Unlock()
	if c.dir != "" {
		c.write(c.tagPath(name), v)
	}
}

// digestPath is dir/digests/<algorithm>/<hex>.json, refusing digests that
// are not a plain algorithm:hex pair (they would escape the directory).
func (c *cache) digestPath(d string) (string, bool) {
	if c.dir == "" {
		return "", false
	}
	alg, hexPart, ok := strings.Cut(d, ":")
	if !ok || !isLowerAlnum(alg) || !isLowerAlnum(hexPart) {
		return "", false
	}
	return filepath.Join(c.dir, "digests", alg, hexPart+".json"), true
}

func (c *cache) tagPath(name string) string {
	sum := sha256.Sum256([]byte(name))
	return filepath.Join(c.dir, "tags", hex.EncodeToString(sum[:])+".json")
}

func (c *cache) read(path string, v any) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		if !os.IsNotExist(err) {
			c.log.Debug("registry cache unreadable, ignored", "path", path, "err", err)
		}
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		c.log.Debug("registry cache file corrupt, ignored", "path", path, "err", err)
		return false
	}
	return true
}

// write stores v at path atomically (temporary file, then rename). A
// failure is logged and otherwise ignored: the cache is an optimisation.
func (c *cache) write(path string, v any) {
	if err := writeAtomic(path, v); err != nil {
		c.log.Debug("registry cache write failed", "path", path, "err", err)
	}
}

func writeAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename cache file: %w", err)
	}
	return nil
}

func isLowerAlnum(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
