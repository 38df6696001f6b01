package walk

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte("kind: Pod\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(small); err != nil || string(data) != "kind: Pod\n" {
		t.Errorf("a small file: %q, %v", data, err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(small, link); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(link); err != nil || string(data) != "kind: Pod\n" {
		t.Errorf("a link to a file: %q, %v", data, err)
	}
	// Sparse: as large as it says, without the disk.
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fifo := filepath.Join(dir, "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		big:                                "larger than the 256 MiB",
		fifo:                               "not a regular file",
		"/dev/zero":                        "not a regular file",
		filepath.Join(dir, "missing.yaml"): "no such file",
	} {
		start := time.Now()
		_, err := ReadFile(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", path, err, want)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: took %v", path, took)
		}
	}
}
