package compose

import (
	"path/filepath"
	"regexp"
)

var composeName = regexp.MustCompile(`^(docker-)?compose(\.[A-Za-z0-9_-]+)*\.ya?ml$`)

// IsComposeFileName reports whether a file's name marks it as a compose
// file: compose.yaml, docker-compose.yml, and their variants such as
// compose.override.yaml or docker-compose.prod.yml.
func IsComposeFileName(path string) bool {
	return composeName.MatchString(filepath.Base(path))
}
