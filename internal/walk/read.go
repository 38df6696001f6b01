package walk

import (
	"fmt"
	"io"
	"os"
)

// MaxFileSize is the largest input file ReadFile reads: 256 MiB, far
// past any real manifest, chart values or compose file.
const MaxFileSize = 256 << 20

// ReadFile reads an input file: a regular file (a link to one is
// followed) of at most MaxFileSize bytes. A device, a FIFO or a socket
// (/dev/zero, a named pipe that never closes) is refused before it is
// opened, and a file that grows past the bound while read is refused too.
func ReadFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() && !info.IsDir() {
		return nil, fmt.Errorf("%s: not a regular file but %s", path, typeName(info.Mode()))
	}
	if info.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: %d MiB, larger than the %d MiB archway reads", path, info.Size()>>20, MaxFileSize>>20)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: grew past the %d MiB archway reads", path, MaxFileSize>>20)
	}
	return data, nil
}

// typeName names a file type that is not a regular file, for people.
func typeName(m os.FileMode) string {
	switch {
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}
