package verify

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// cacheVersion changes whenever Layer records change meaning, so records
// of an older archway are not read.
const cacheVersion = 1

// layerCache keeps one zstd-compressed JSON record per layer digest in a
// directory. Layers are immutable, so a record never goes stale. Writes
// are atomic (a temporary file renamed into place); a broken record is a
// miss.
type layerCache struct {
	dir string // empty: no cache
}

type cacheRecord struct {
	Version int    `json:"version"`
	Layer   *Layer `json:"layer"`
}

func (c layerCache) file(digest string) string {
	return filepath.Join(c.dir, strings.ReplaceAll(digest, ":", "-")+".json.zst")
}

// get returns the record for digest, or nil.
func (c layerCache) get(digest string) *Layer {
	if c.dir == "" {
		return nil
	}
	f, err := os.Open(c.file(digest))
	if err != nil {
		return nil
	}
	defer f.Close()
	zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil
	}
	defer zr.Close()
	var rec cacheRecord
	if err := json.NewDecoder(zr).Decode(&rec); err != nil || rec.Version != cacheVersion || rec.Layer == nil || rec.Layer.Digest != digest {
		return nil
	}
	return rec.Layer
}

// put stores l's record.
func (c layerCache) put(l *Layer) error {
	if c.dir == "" {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a rename there is nothing to remove
	zw, err := zstd.NewWriter(tmp, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		tmp.Close()
		return fmt.Errorf("layer cache: %w", err)
	}
	err = json.NewEncoder(zw).Encode(cacheRecord{Version: cacheVersion, Layer: l})
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.file(l.Digest))
	}
	if err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	return nil
}
