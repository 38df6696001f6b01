// Command biglayer writes large gzip layers of many files (text-like
// bodies that compress about 2.5:1, one file in 20 an arm64 ELF) to a
// directory, and pushes an arm64 image made of them to a registry, for the
// verify benchmark.
//
//	biglayer -registry 127.0.0.1:5000 -repo bench/big:1 -out DIR -mib 512 -files 40000 -layers 1
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/klauspost/compress/gzip"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "biglayer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("biglayer", flag.ContinueOnError)
	reg := fs.String("registry", "", "registry host:port to push to (empty: write the layer only)")
	repo := fs.String("repo", "bench/big:1", "repository:tag to push")
	out := fs.String("out", "layers", "directory to write the gzip layers to (layer-N.tar.gz)")
	mib := fs.Int("mib", 512, "uncompressed size of the file bodies of all layers, MiB")
	files := fs.Int("files", 40000, "number of files in all layers")
	layers := fs.Int("layers", 1, "number of layers the files are split into")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mib < 1 || *files < *layers || *layers < 1 {
		return errors.New("usage: biglayer [-registry HOST:PORT] [-repo REPO:TAG] [-out DIR] [-mib N] [-files N] [-layers N]")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var paths []string
	for i := range *layers {
		p := filepath.Join(*out, fmt.Sprintf("layer-%d.tar.gz", i))
		if err := writeLayer(p, (int64(*mib)<<20)/int64(*layers), *files / *layers, uint64(i)); err != nil {
			return err
		}
		paths = append(paths, p)
	}
	if *reg == "" {
		return nil
	}
	return push(ctx, *reg, *repo, paths)
}

// writeLayer writes the gzip tar of n files, total bytes of bodies, to
// path; layer 0 holds the entrypoint, the others differ by seed.
func writeLayer(path string, total int64, n int, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for _, d := range []string{"bin/", "usr/", "usr/bin/", "usr/share/", "usr/share/data/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(1, 2+seed))
	body := newText(rng)
	each := total / int64(n)
	for i := range n {
		size := each/2 + rng.Int64N(each+1) // mean each
		name, mode := fmt.Sprintf("usr/share/data/%03d/file-%d-%06d.txt", i%500, seed, i), int64(0o644)
		var head []byte
		switch {
		case i == 0 && seed == 0:
			name, mode, head = "usr/bin/app", 0o755, elfHead()
		case i%20 == 0:
			name, mode, head = fmt.Sprintf("usr/share/data/%03d/lib%d-%06d.so", i%500, seed, i), 0o755, elfHead()
		}
		size = max(size, int64(len(head)))
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(head); err != nil {
			return err
		}
		if _, err := io.CopyN(tw, body, size-int64(len(head))); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// elfHead is the 64-byte header of an arm64 executable.
func elfHead() []byte {
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_AARCH64), Version: 1, Ehsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, h)
	return b.Bytes()
}

// text is an endless reader of words drawn at random from a small
// vocabulary: about as compressible as source code or logs.
type text struct {
	rng   *rand.Rand
	words [][]byte
	buf   []byte
}

func newText(rng *rand.Rand) *text {
	t := &text{rng: rng}
	for range 4096 {
		w := make([]byte, 2+rng.IntN(10))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		t.words = append(t.words, append(w, ' '))
	}
	return t
}

func (t *text) Read(p []byte) (int, error) {
	for len(t.buf) < len(p) {
		t.buf = append(t.buf, t.words[t.rng.IntN(len(t.words))]...)
		if t.rng.IntN(12) == 0 {
			t.buf = append(t.buf, '\n')
		}
	}
	n := copy(p, t.buf)
	t.buf = t.buf[:copy(t.buf, t.buf[n:])]
	return n, nil
}

// push pushes an arm64 image of the layers at paths to reg/repo, which
// must be listening.
func push(ctx context.Context, reg, repo string, paths []string) error {
	ref, err := name.ParseReference(reg + "/" + repo)
	if err != nil {
		return err
	}
	var adds []mutate.Addendum
	for _, p := range paths {
		layer, err := tarball.LayerFromFile(p)
		if err != nil {
			return err
		}
		adds = append(adds, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "COPY " + filepath.Base(p) + " /usr/share/data"}})
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config.Entrypoint = "linux", "arm64", []string{"app"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	return remote.Write(ref, img, remote.WithContext(ctx))
}
