package verify

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Entry types of a layer record.
const (
	TypeFile     = "file"
	TypeDir      = "dir"
	TypeSymlink  = "symlink"
	TypeHardlink = "hardlink" // a hardlink whose target is in a lower layer
	TypeOther    = "other"
)

// Entry is one path of a layer as the verifier keeps it.
type Entry struct {
	// Path is absolute and clean, e.g. /usr/bin/app.
	Path string `json:"path"`
	// Type is one of the Type constants.
	Type string `json:"type"`
	// Mode holds the permission bits.
	Mode int64 `json:"mode,omitempty"`
	// Link is a symlink's target as written, or a hardlink's target path.
	Link string `json:"link,omitempty"`
	// Bin is what the file's first bytes say; nil for other files.
	Bin *Binary `json:"bin,omitempty"`
}

// Layer is the record of one layer: everything the judge needs, nothing
// of the file bodies.
type Layer struct {
	// Digest is the blob digest the record is for.
	Digest string `json:"digest"`
	// Entries are the layer's paths (last one wins for a repeated path),
	// whiteout files excluded.
	Entries []Entry `json:"entries"`
	// Whiteouts are paths this layer deletes from lower layers.
	Whiteouts []string `json:"whiteouts,omitempty"`
	// Opaques are directories whose lower-layer children this layer hides.
	Opaques []string `json:"opaques,omitempty"`
	// DBs are the package databases found in the layer.
	DBs []PackageDB `json:"dbs,omitempty"`
	// Uncompressed is the unpacked size in bytes.
	Uncompressed int64 `json:"uncompressed"`
}

// Magic bytes of the compressions a layer may use.
var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// readLayer reads one layer blob from blob (whose size the manifest gave)
// and returns its record. It reads blob to its end, so a digest check in
// blob's reader runs, and holds no file body.
func readLayer(blob io.Reader, size int64, lim Limits) (*Layer, error) {
	if size > lim.CompressedBytes {
		return nil, fmt.Errorf("%w: %d bytes > %d", ErrCompressedTooLarge, size, lim.CompressedBytes)
	}
	comp := &capReader{r: blob, max: lim.CompressedBytes, err: ErrCompressedTooLarge}
	br := bufio.NewReaderSize(comp, 64<<10)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading layer: %w", err)
	}
	var plain io.Reader
	switch {
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer func() { _ = zr.Close() }() // a read error is what matters; gzip's Close adds none
		plain = zr
	case bytes.HasPrefix(head, magicZstd):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(64<<20), zstd.WithDecoderMaxMemory(uint64(lim.UncompressedBytes)))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		defer zr.Close()
		plain = zr
	default:
		plain = br // a plain tar; tar says so if it is not one
	}
	un := &unpackedReader{r: plain, lim: lim, size: size}
	l, err := readTar(un, lim)
	if err != nil {
		if bytes.HasPrefix(head, magicGzip) || bytes.HasPrefix(head, magicZstd) {
			return nil, err
		}
		if errors.Is(err, tar.ErrHeader) {
			return nil, fmt.Errorf("%w (first bytes %x)", ErrUnknownCompression, head)
		}
		return nil, err
	}
	// Drain what follows the tar end (padding, trailing streams) through the
	// caps, then the blob itself, so its digest is checked.
	if _, err := io.Copy(io.Discard, un); err != nil {
		return nil, fmt.Errorf("reading layer end: %w", err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, fmt.Errorf("reading layer blob: %w", err)
	}
	l.Uncompressed = un.n
	return l, nil
}

// readTar reads a layer's tar stream into its record.
func readTar(r io.Reader, lim Limits) (*Layer, error) {
	l := &Layer{}
	tr := tar.NewReader(r)
	at := map[string]int{} // path → index in l.Entries
	dbs := map[string]int{}
	scratch := make([]byte, headBytes)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		if n >= lim.Entries {
			return nil, fmt.Errorf("%w (%d)", ErrTooManyEntries, lim.Entries)
		}
		if len(h.Name) > lim.PathLength || len(h.Linkname) > lim.PathLength {
			return nil, fmt.Errorf("%w (%d bytes): %.80q…", ErrPathTooLong, lim.PathLength, h.Name)
		}
		p := cleanPath(h.Name)
		dir, base := path.Split(p)
		if base == ".wh..wh..opq" {
			l.Opaques = append(l.Opaques, cleanPath(dir))
			continue
		}
		if rest, ok := strings.CutPrefix(base, ".wh."); ok {
			l.Whiteouts = append(l.Whiteouts, path.Join(dir, rest))
			continue
		}
		e := Entry{Path: p, Mode: h.Mode & 0o7777}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeGNUSparse, '7': // '7' is a contiguous file
			e.Type = TypeFile
			if kind := dbKind(p); kind != "" {
				db, err := readDB(p, kind, tr, h.Size, lim.DBBytes)
				if err != nil {
					return nil, err
				}
				if i, ok := dbs[p]; ok {
					l.DBs[i] = db
				} else {
					dbs[p] = len(l.DBs)
					l.DBs = append(l.DBs, db)
				}
			} else if h.Size > 0 {
				if e.Bin, err = sniff(tr, h.Size, scratch); err != nil {
					return nil, fmt.Errorf("%s: %w", p, err)
				}
			}
		case tar.TypeDir:
			e.Type = TypeDir
		case tar.TypeSymlink:
			e.Type, e.Link = TypeSymlink, h.Linkname
		case tar.TypeLink:
			e.Type, e.Link = TypeHardlink, cleanPath(h.Linkname)
			if i, ok := at[e.Link]; ok && l.Entries[i].Type == TypeFile {
				e.Type, e.Bin = TypeFile, l.Entries[i].Bin
			}
		default:
			e.Type = TypeOther
		}
		if i, ok := at[p]; ok {
			l.Entries[i] = e
			continue
		}
		at[p] = len(l.Entries)
		l.Entries = append(l.Entries, e)
	}
	return l, nil
}

// cleanPath makes a tar name absolute and clean; "../" cannot climb past /.
func cleanPath(name string) string { return path.Clean("/" + name) }

// capReader fails with err once more than max bytes have been read.
type capReader struct {
	r   io.Reader
	n   int64
	max int64
	err error
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, fmt.Errorf("%w (%d bytes)", c.err, c.max)
	}
	return n, err
}

// unpackedReader counts a layer's unpacked bytes against the absolute cap
// and the ratio to the blob size.
type unpackedReader struct {
	r    io.Reader
	n    int64
	lim  Limits
	size int64 // blob size
}

func (u *unpackedReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	u.n += int64(n)
	switch {
	case u.n > u.lim.UncompressedBytes:
		return n, fmt.Errorf("%w (%d bytes)", ErrUncompressedTooLarge, u.lim.UncompressedBytes)
	case u.n > u.lim.RatioFloor && u.size > 0 && u.n/u.size > u.lim.Ratio:
		return n, fmt.Errorf("%w: %d bytes from a %d-byte blob, more than %d×", ErrBomb, u.n, u.size, u.lim.Ratio)
	}
	return n, err
}
