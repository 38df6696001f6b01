package verify

import (
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/archwaydev/archway/internal/platform"
)

// Defaults for Options and Limits.
const (
	// DefaultJobs is how many layers are read at once.
	DefaultJobs = 4
	// DefaultCompressedBytes caps one layer blob (8 GiB).
	DefaultCompressedBytes = 8 << 30
	// DefaultUncompressedBytes caps one unpacked layer (32 GiB).
	DefaultUncompressedBytes = 32 << 30
	// DefaultRatio caps unpacked ÷ blob bytes past DefaultRatioFloor.
	DefaultRatio = 200
	// DefaultRatioFloor is the unpacked size below which the ratio is not
	// checked (256 MiB): small layers of zeros are no threat.
	DefaultRatioFloor = 256 << 20
	// DefaultEntries caps the tar entries of one layer.
	DefaultEntries = 1_000_000
	// DefaultPathLength caps a tar entry's name and link target (bytes).
	DefaultPathLength = 4096
	// DefaultSymlinkHops caps the symlinks followed resolving one path
	// (Linux's limit is 40).
	DefaultSymlinkHops = 40
	// DefaultDBBytes caps what is read of one package database file.
	DefaultDBBytes = 16 << 20
)

// Limits bound what one hostile layer can cost. Zero fields take the
// defaults above.
type Limits struct {
	// CompressedBytes caps one layer blob (ErrCompressedTooLarge).
	CompressedBytes int64
	// UncompressedBytes caps one unpacked layer (ErrUncompressedTooLarge).
	UncompressedBytes int64
	// Ratio caps unpacked ÷ blob bytes once past RatioFloor (ErrBomb).
	Ratio int64
	// RatioFloor is the unpacked size below which Ratio is not checked.
	RatioFloor int64
	// Entries caps the tar entries of one layer (ErrTooManyEntries).
	Entries int
	// PathLength caps a tar entry's name and link target (ErrPathTooLong).
	PathLength int
	// SymlinkHops caps the symlinks followed resolving a path (ErrSymlinkHops).
	SymlinkHops int
	// DBBytes caps one package database file.
	DBBytes int64
}

// withDefaults fills zero fields.
func (l Limits) withDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.CompressedBytes, DefaultCompressedBytes)
	def(&l.UncompressedBytes, DefaultUncompressedBytes)
	def(&l.Ratio, DefaultRatio)
	def(&l.RatioFloor, DefaultRatioFloor)
	def(&l.DBBytes, DefaultDBBytes)
	if l.Entries <= 0 {
		l.Entries = DefaultEntries
	}
	if l.PathLength <= 0 {
		l.PathLength = DefaultPathLength
	}
	if l.SymlinkHops <= 0 {
		l.SymlinkHops = DefaultSymlinkHops
	}
	return l
}

// Options change what Image verifies and how.
type Options struct {
	// Platforms limits the check to these platform entries; nil checks
	// every real platform of an index (attestations skipped).
	Platforms []platform.Platform
	// Allow are path globs (path.Match, plus "**" for any depth; relative
	// ones start at /) of files whose wrong machine is expected, e.g.
	// qemu-user-static; their findings are info. See CheckGlob.
	Allow []string
	// ClaimsOnly compares the descriptor and config claims and reads no layer.
	ClaimsOnly bool
	// Jobs is how many layers are read at once; 0 means DefaultJobs.
	Jobs int
	// CacheDir holds one record per layer digest; empty means no cache.
	// DefaultCacheDir gives the usual place.
	CacheDir string
	// Limits bound each layer.
	Limits Limits
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// DefaultCacheDir is os.UserCacheDir()/archway/verify.
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "archway", "verify"), nil
}

// CheckGlob reports whether g is a well-formed Allow glob.
func CheckGlob(g string) error {
	if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), "/"); err != nil {
		return fmt.Errorf("glob %q: %w", g, err)
	}
	return nil
}
