package verify_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/verify"
)

// bins holds real binaries built once per test run by TestMain: static
// and PIE (with a PT_INTERP loader) ELF for arm64 and amd64, a 32-bit ARM
// ELF, and a Windows amd64 PE.
var bins = map[string][]byte{}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "verify-bins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	builds := []struct{ key, goos, arch, mode string }{
		{"arm64-exe", "linux", "arm64", "exe"}, {"arm64-pie", "linux", "arm64", "pie"},
		{"amd64-exe", "linux", "amd64", "exe"}, {"amd64-pie", "linux", "amd64", "pie"},
		{"arm-exe", "linux", "arm", "exe"}, // 32-bit ARM
		{"windows-amd64", "windows", "amd64", "exe"},
	}
	for _, b := range builds {
		out := filepath.Join(dir, b.key)
		cmd := exec.Command("go", "build", "-buildmode="+b.mode, "-ldflags=-s -w", "-o", out, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+b.goos, "GOARCH="+b.arch, "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building the %s test binary: %v\n%s", b.key, err, out)
			return 1
		}
		data, err := os.ReadFile(out)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		bins[b.key] = data
	}
	return m.Run()
}

// file is one tar entry of a test layer.
type file struct {
	name string
	typ  byte // tar.TypeReg when zero
	mode int64
	body []byte
	link string
}

func reg(name string, mode int64, body []byte) file { return file{name: name, mode: mode, body: body} }
func dir(name string) file                          { return file{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, to string) file                  { return file{name: name, typ: tar.TypeSymlink, link: to} }
func whiteout(name string) file                     { return file{name: name, mode: 0o644} }

// tarball writes files as a tar stream.
func tarball(t testing.TB, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: f.mode, Linkname: f.link, Size: int64(len(f.body)), Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write(f.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compress compresses b with gzip or zstd ("" leaves it a plain tar).
func compress(t testing.TB, how string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch how {
	case "gzip":
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(b)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		return b
	}
	return buf.Bytes()
}

// layer is one layer of a test image and the history line that made it.
type layer struct {
	createdBy string
	comp      string // gzip (default), zstd or none
	files     []file
}

// img builds an image whose config claims arch, with cfg and layers.
func img(t testing.TB, arch string, cfg v1.Config, layers ...layer) v1.Image {
	t.Helper()
	var adds []mutate.Addendum
	for _, l := range layers {
		comp := l.comp
		if comp == "" {
			comp = "gzip"
		}
		mt := types.OCILayer
		switch comp {
		case "zstd":
			mt = types.OCILayerZStd
		case "none":
			mt = types.OCIUncompressedLayer
		}
		adds = append(adds, mutate.Addendum{
			Layer:   static.NewLayer(compress(t, comp, tarball(t, l.files...)), mt),
			History: v1.History{CreatedBy: l.createdBy},
		})
	}
	return registrytest.LayeredImage(t, platform.Platform{OS: "linux", Architecture: arch}, cfg, adds...)
}

// entry is one platform entry of a test index.
type entry struct {
	claim string // the descriptor's platform
	img   v1.Image
}

func index(t testing.TB, entries ...entry) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, e := range entries {
		adds = append(adds, mutate.IndexAddendum{Add: e.img, Descriptor: v1.Descriptor{Platform: registrytest.V1Platform(platform.MustParse(e.claim))}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

// run verifies ref with a fresh client.
func run(t testing.TB, ref string, o verify.Options) verify.Result {
	t.Helper()
	return runWith(t, ref, o, http.DefaultTransport)
}

// base is a minimal filesystem: PATH directories and a usrmerge /bin.
func base(arch string) layer {
	return layer{createdBy: "base", files: []file{
		dir("usr/"), dir("usr/bin/"), dir("usr/local/bin/"), symlink("bin", "usr/bin"),
		reg("usr/bin/true", 0o755, bins[arch+"-exe"]),
	}}
}

// runWith verifies ref with a client whose requests go through rt.
func runWith(t testing.TB, ref string, o verify.Options, rt http.RoundTripper) verify.Result {
	t.Helper()
	c, err := registry.New(registry.WithoutCache(), registry.WithTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	res, err := verify.Image(context.Background(), c, ref, o)
	if err != nil {
		t.Fatalf("verify %s: %v", ref, err)
	}
	return res
}

// tamper serves r's storage on a second loopback server that flips the
// middle byte of the blob with digest d, as a broken mirror would.
func tamper(t testing.TB, r *registrytest.InProcess, d string) *registrytest.InProcess {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/blobs/"+d) {
			r.Handler.ServeHTTP(w, req)
			return
		}
		rec := httptest.NewRecorder()
		r.Handler.ServeHTTP(rec, req)
		b := rec.Body.Bytes()
		b[len(b)/2] ^= 0xff
		w.WriteHeader(rec.Code)
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return &registrytest.InProcess{Handler: r.Handler, Server: srv, Host: strings.TrimPrefix(srv.URL, "http://")}
}
