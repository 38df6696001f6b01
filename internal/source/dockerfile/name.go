package dockerfile

import (
	"path/filepath"
	"strings"
)

// IsDockerfileName reports whether a file's name marks it as a Dockerfile:
// Dockerfile, Containerfile, Dockerfile.<suffix> or <prefix>.Dockerfile
// (any case), but not a Dockerfile's .dockerignore.
func IsDockerfileName(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	if strings.HasSuffix(base, ".dockerignore") {
		return false
	}
	for _, n := range []string{"dockerfile", "containerfile"} {
		if base == n || strings.HasPrefix(base, n+".") || strings.HasSuffix(base, "."+n) {
			return true
		}
	}
	return false
}
