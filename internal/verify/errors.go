package verify

import "errors"

// Errors for the caps in Limits. Each makes the answer for its image
// unknown; errors.Is tells them apart.
var (
	// ErrCompressedTooLarge: a layer blob is larger than Limits.CompressedBytes.
	ErrCompressedTooLarge = errors.New("layer blob exceeds the compressed-bytes cap")
	// ErrUncompressedTooLarge: a layer unpacks to more than Limits.UncompressedBytes.
	ErrUncompressedTooLarge = errors.New("layer exceeds the uncompressed-bytes cap")
	// ErrBomb: a layer unpacks to more than Limits.Ratio times its blob size.
	ErrBomb = errors.New("layer exceeds the decompression-ratio cap (decompression bomb?)")
	// ErrTooManyEntries: a layer has more tar entries than Limits.Entries.
	ErrTooManyEntries = errors.New("layer exceeds the tar-entries cap")
	// ErrPathTooLong: a tar entry's name or link target is longer than Limits.PathLength.
	ErrPathTooLong = errors.New("tar entry path exceeds the path-length cap")
	// ErrSymlinkHops: resolving a path took more than Limits.SymlinkHops symlinks.
	ErrSymlinkHops = errors.New("too many levels of symbolic links")
	// ErrUnknownCompression: a layer is neither gzip, zstd nor a plain tar.
	ErrUnknownCompression = errors.New("layer is neither gzip, zstd nor tar")
)
