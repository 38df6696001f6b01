package verify_test

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/verify"
)

const curlAMD64 = "RUN curl -fsSL https://example.invalid/tool-linux-amd64.tar.gz | tar -xz -C /usr/local/bin"

var appCfg = v1.Config{Entrypoint: []string{"app"}, Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}}

// brief is the part of a finding the tests compare.
type brief struct {
	Severity, Check, Path, Arch string
	Layer                       int
	CreatedBy, Owner            string
}

func briefs(fs []verify.Finding) []brief {
	var out []brief
	for _, f := range fs {
		out = append(out, brief{f.Severity, f.Check, f.Path, f.Arch, f.Layer, f.CreatedBy, f.Owner})
	}
	return out
}

func onlyPlatform(t *testing.T, res verify.Result) verify.PlatformResult {
	t.Helper()
	if len(res.Platforms) != 1 {
		t.Fatalf("got %d platform results, want 1: %+v", len(res.Platforms), res)
	}
	return res.Platforms[0]
}

func TestHonestMultiArch(t *testing.T) {
	r := registrytest.StartInProcess(t)
	idx := index(t,
		entry{"linux/arm64", img(t, "arm64", appCfg, base("arm64"), layer{createdBy: "COPY app /usr/local/bin/", files: []file{reg("usr/local/bin/app", 0o755, bins["arm64-exe"])}})},
		entry{"linux/amd64", img(t, "amd64", appCfg, base("amd64"), layer{createdBy: "COPY app /usr/local/bin/", comp: "zstd", files: []file{reg("usr/local/bin/app", 0o755, bins["amd64-exe"])}})},
	)
	ref := r.Ref("honest:1")
	registrytest.PushIndex(t, ref, registrytest.WithAttestations(t, idx))
	res := run(t, ref, verify.Options{})
	if res.Verdict != verify.Verified {
		t.Fatalf("verdict %s, want verified: %+v", res.Verdict, res)
	}
	if len(res.Platforms) != 2 {
		t.Fatalf("got %d platforms (attestations must be skipped), want 2", len(res.Platforms))
	}
	for _, p := range res.Platforms {
		if len(p.Findings) != 0 || p.Layers != 2 {
			t.Errorf("%s: findings %+v, layers %d; want none and 2", p.Platform, p.Findings, p.Layers)
		}
		if want := map[string]int{p.Platform.Architecture: 2}; !cmp.Equal(p.Binaries, want) {
			t.Errorf("%s: binaries %v, want %v", p.Platform, p.Binaries, want)
		}
	}
	// --platform picks one entry; a platform the index lacks is missing.
	res = run(t, ref, verify.Options{Platforms: []platform.Platform{platform.LinuxARM64, platform.MustParse("linux/s390x")}})
	if len(res.Platforms) != 2 || res.Platforms[0].Platform != platform.LinuxARM64 || res.Platforms[0].Verdict != verify.Verified ||
		res.Platforms[1].Verdict != verify.Missing || res.Verdict != verify.Missing {
		t.Errorf("--platform linux/arm64,linux/s390x: %+v", res)
	}
}

func TestLyingImage(t *testing.T) {
	r := registrytest.StartInProcess(t)
	for _, comp := range []string{"gzip", "zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			im := img(t, "arm64", appCfg, base("arm64"), layer{createdBy: curlAMD64, comp: comp, files: []file{
				reg("usr/local/bin/app", 0o755, bins["amd64-exe"]),
			}})
			ref := r.Ref("liar:" + comp)
			registrytest.PushIndex(t, ref, index(t, entry{"linux/arm64", im}))
			res := run(t, ref, verify.Options{})
			p := onlyPlatform(t, res)
			want := []brief{{verify.SeverityError, verify.CheckEntrypoint, "/usr/local/bin/app", "amd64", 1, curlAMD64, "unowned: downloaded or copied in"}}
			if diff := cmp.Diff(want, briefs(p.Findings)); diff != "" || p.Verdict != verify.Mismatch || res.Verdict != verify.Mismatch {
				t.Errorf("verdict %s/%s, findings (-want +got):\n%s", res.Verdict, p.Verdict, diff)
			}
		})
	}
}

func TestClaimsDisagree(t *testing.T) {
	r := registrytest.StartInProcess(t)
	im := img(t, "amd64", appCfg, base("amd64"), layer{files: []file{reg("usr/local/bin/app", 0o755, bins["amd64-exe"])}})
	ref := r.Ref("claims:1")
	registrytest.PushIndex(t, ref, index(t, entry{"linux/arm64", im}))

	// Claims only: the finding comes without reading a layer.
	counter := registrytest.NewCounter(nil)
	res := runWith(t, ref, verify.Options{ClaimsOnly: true}, counter)
	p := onlyPlatform(t, res)
	if p.Verdict != verify.Mismatch || len(p.Findings) != 1 || p.Findings[0].Check != verify.CheckClaims ||
		!strings.Contains(p.Findings[0].Message, "index says linux/arm64 but the image config says linux/amd64") {
		t.Fatalf("claims only: %+v", p)
	}
	if n := counter.Count(registrytest.BlobGET); n != 1 { // the config
		t.Errorf("claims only fetched %d blobs, want 1 (the config): %v", n, counter.Requests())
	}
	// A single image has one claim: claims only cannot tell.
	single := r.Ref("claims:single")
	registrytest.Push(t, single, im)
	if p := onlyPlatform(t, run(t, single, verify.Options{ClaimsOnly: true})); p.Verdict != verify.Unknown || !strings.Contains(p.Error, "one claim only") {
		t.Errorf("claims only on a single image: %+v", p)
	}
	// Judged against the descriptor (what the node picks): the amd64 binaries are wrong too.
	p = onlyPlatform(t, run(t, ref, verify.Options{}))
	got := map[string]bool{}
	for _, f := range p.Findings {
		got[f.Check+" "+f.Path] = f.Severity == verify.SeverityError
	}
	if !got["claims "] || !got["entrypoint /usr/local/bin/app"] || !got["path /usr/bin/true"] {
		t.Errorf("findings %+v", p.Findings)
	}
}

func TestScriptInterpreter(t *testing.T) {
	r := registrytest.StartInProcess(t)
	wrongSh := layer{createdBy: "COPY --from=amd64-busybox /bin/sh /usr/bin/sh", files: []file{reg("usr/bin/sh", 0o755, bins["amd64-exe"])}}
	script := layer{createdBy: "COPY docker-entrypoint.sh /", files: []file{
		reg("docker-entrypoint.sh", 0o755, []byte("#!/bin/sh\nexec app \"$@\"\n")),
		reg("env-entrypoint.py", 0o755, []byte("#!/usr/bin/env -S python3 -u\nprint('hi')\n")),
		reg("usr/bin/env", 0o755, bins["arm64-exe"]),
	}}
	python := layer{createdBy: "ADD python3", files: []file{reg("usr/local/bin/python3", 0o755, bins["amd64-exe"])}}
	cases := []struct {
		name  string
		cfg   v1.Config
		want  []brief
		extra []layer
	}{
		{"shebang", v1.Config{Entrypoint: []string{"/docker-entrypoint.sh"}}, []brief{
			{verify.SeverityError, verify.CheckInterpreter, "/bin/sh → /usr/bin/sh", "amd64", 1, wrongSh.createdBy, "unowned: downloaded or copied in"},
		}, nil},
		{"env", v1.Config{Cmd: []string{"/env-entrypoint.py"}, Env: []string{"PATH=/usr/local/bin:/usr/bin"}}, []brief{
			{verify.SeverityError, verify.CheckInterpreter, "/usr/local/bin/python3", "amd64", 3, python.createdBy, "unowned: downloaded or copied in"},
			{verify.SeverityError, verify.CheckPath, "/usr/bin/sh", "amd64", 1, wrongSh.createdBy, "unowned: downloaded or copied in"},
		}, []layer{python}},
		{"shell form", v1.Config{Cmd: []string{"/bin/sh", "-c", "exec python3 -u /app.py"}, Env: []string{"PATH=/usr/local/bin:/usr/bin"}}, []brief{
			{verify.SeverityError, verify.CheckEntrypoint, "/bin/sh → /usr/bin/sh", "amd64", 1, wrongSh.createdBy, "unowned: downloaded or copied in"},
			{verify.SeverityError, verify.CheckEntrypoint, "/usr/local/bin/python3", "amd64", 3, python.createdBy, "unowned: downloaded or copied in"},
		}, []layer{python}},
		{"env missing", v1.Config{Cmd: []string{"/env-entrypoint.py"}}, []brief{
			{verify.SeverityError, verify.CheckInterpreter, "python3", "", -1, "", ""},
			{verify.SeverityError, verify.CheckPath, "/usr/bin/sh", "amd64", 1, wrongSh.createdBy, "unowned: downloaded or copied in"},
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			im := img(t, "arm64", c.cfg, append([]layer{base("arm64"), wrongSh, script}, c.extra...)...)
			ref := r.Ref("script:" + strings.ReplaceAll(c.name, " ", "-"))
			registrytest.Push(t, ref, im)
			p := onlyPlatform(t, run(t, ref, verify.Options{}))
			if diff := cmp.Diff(c.want, briefs(p.Findings)); diff != "" || p.Verdict != verify.Mismatch {
				t.Errorf("verdict %s, findings (-want +got):\n%s", p.Verdict, diff)
			}
		})
	}
}

func TestLoader(t *testing.T) {
	r := registrytest.StartInProcess(t)
	app := layer{createdBy: "COPY app /usr/local/bin/", files: []file{reg("usr/local/bin/app", 0o755, bins["arm64-pie"])}}
	loader := layer{createdBy: "RUN apt-get install libc6", files: []file{
		dir("lib/"), dir("lib/aarch64-linux-gnu/"),
		reg("lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", 0o755, bins["arm64-pie"]),
		symlink("lib/ld-linux-aarch64.so.1", "aarch64-linux-gnu/ld-linux-aarch64.so.1"),
	}}
	wrongLoader := layer{files: []file{dir("lib/"), reg("lib/ld-linux-aarch64.so.1", 0o755, bins["amd64-exe"])}}
	cases := []struct {
		name   string
		layers []layer
		want   []brief
	}{
		{"present", []layer{base("arm64"), loader, app}, nil},
		{"missing", []layer{base("arm64"), app}, []brief{{verify.SeverityError, verify.CheckLoader, "/lib/ld-linux-aarch64.so.1", "", -1, "", ""}}},
		{"wrong arch", []layer{base("arm64"), wrongLoader, app}, []brief{{verify.SeverityError, verify.CheckLoader, "/lib/ld-linux-aarch64.so.1", "amd64", 1, "", "unowned: downloaded or copied in"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := r.Ref("loader:" + strings.ReplaceAll(c.name, " ", "-"))
			registrytest.Push(t, ref, img(t, "arm64", appCfg, c.layers...))
			p := onlyPlatform(t, run(t, ref, verify.Options{}))
			if diff := cmp.Diff(c.want, briefs(p.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if wantVerdict := map[bool]string{true: verify.Verified, false: verify.Mismatch}[c.want == nil]; p.Verdict != wantVerdict {
				t.Errorf("verdict %s, want %s", p.Verdict, wantVerdict)
			}
		})
	}
}

func TestLayerRules(t *testing.T) {
	r := registrytest.StartInProcess(t)
	wrong := layer{createdBy: curlAMD64, files: []file{
		reg("usr/local/bin/tool", 0o755, bins["amd64-exe"]),
		dir("opt/"), dir("opt/tools/"), reg("opt/tools/x", 0o755, bins["amd64-exe"]),
	}}
	cases := []struct {
		name  string
		fix   layer
		want  []brief
		archs map[string]int
	}{
		{"whiteout deletes the wrong binary", layer{files: []file{whiteout("usr/local/bin/.wh.tool"), whiteout("opt/.wh.tools")}}, nil, map[string]int{"arm64": 1}},
		{"a whiteout hides lower layers only", layer{createdBy: "RUN again", files: []file{
			whiteout("usr/local/bin/.wh.tool"), reg("usr/local/bin/tool", 0o755, bins["amd64-exe"]), whiteout("opt/.wh.tools"),
		}}, []brief{{verify.SeverityError, verify.CheckPath, "/usr/local/bin/tool", "amd64", 2, "RUN again", "unowned: downloaded or copied in"}}, map[string]int{"arm64": 1, "amd64": 1}},
		{"opaque directory", layer{files: []file{
			whiteout("usr/local/bin/.wh.tool"),
			reg("opt/tools/y", 0o755, bins["arm64-exe"]), whiteout("opt/tools/.wh..wh..opq"), // opaque applies first, whatever the order
			reg("usr/local/bin/tool", 0o755, bins["arm64-exe"]),
		}}, nil, map[string]int{"arm64": 3}},
		{"no fix", layer{files: []file{dir("tmp/")}}, []brief{
			{verify.SeverityError, verify.CheckPath, "/usr/local/bin/tool", "amd64", 1, curlAMD64, "unowned: downloaded or copied in"},
			{verify.SeverityWarning, verify.CheckBinary, "/opt/tools/x", "amd64", 1, curlAMD64, "unowned: downloaded or copied in"},
		}, map[string]int{"arm64": 1, "amd64": 2}},
		{"symlink on PATH to a wrong binary elsewhere", layer{createdBy: "RUN ln -s", files: []file{
			whiteout("usr/local/bin/.wh.tool"), symlink("usr/local/bin/x", "/opt/tools/x"),
		}}, []brief{{verify.SeverityError, verify.CheckPath, "/usr/local/bin/x → /opt/tools/x", "amd64", 1, curlAMD64, "unowned: downloaded or copied in"}}, map[string]int{"arm64": 1, "amd64": 1}},
		{"hardlink to a lower layer's file", layer{createdBy: "RUN ln", files: []file{
			whiteout("usr/local/bin/.wh.tool"), whiteout("opt/.wh.tools"),
			{name: "usr/bin/tool2", typ: tar.TypeLink, link: "opt/tools/x"},
		}}, []brief{{verify.SeverityError, verify.CheckPath, "/usr/bin/tool2", "amd64", 2, "RUN ln", "unowned: downloaded or copied in"}}, map[string]int{"arm64": 1, "amd64": 1}},
	}
	cfg := v1.Config{Entrypoint: []string{"true"}}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := r.Ref(fmt.Sprintf("rules:%d", i))
			registrytest.Push(t, ref, img(t, "arm64", cfg, base("arm64"), wrong, c.fix))
			p := onlyPlatform(t, run(t, ref, verify.Options{}))
			if diff := cmp.Diff(c.want, briefs(p.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.archs, p.Binaries); diff != "" {
				t.Errorf("binaries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSeverities(t *testing.T) {
	r := registrytest.StartInProcess(t)
	im := img(t, "arm64", appCfg, base("arm64"),
		layer{createdBy: "COPY app", files: []file{reg("usr/local/bin/app", 0o755, bins["arm64-exe"])}},
		layer{createdBy: "COPY node_modules", files: []file{
			dir("usr/lib/"), reg("usr/lib/libfoo.so", 0o644, bins["amd64-pie"]),
			dir("usr/local/lib/"), reg("usr/local/lib/addon.node", 0o644, bins["arm-exe"]),
			dir("usr/libexec/"), dir("usr/libexec/qemu/"), reg("usr/libexec/qemu/qemu-x86_64", 0o755, bins["amd64-exe"]),
		}},
	)
	ref := r.Ref("severity:1")
	registrytest.Push(t, ref, im)
	p := onlyPlatform(t, run(t, ref, verify.Options{Allow: []string{"usr/libexec/qemu/**"}}))
	want := []brief{
		{verify.SeverityError, verify.CheckBinary, "/usr/local/lib/addon.node", "arm", 2, "COPY node_modules", "unowned: downloaded or copied in"},
		{verify.SeverityWarning, verify.CheckBinary, "/usr/lib/libfoo.so", "amd64", 2, "COPY node_modules", "unowned: downloaded or copied in"},
		{verify.SeverityInfo, verify.CheckBinary, "/usr/libexec/qemu/qemu-x86_64", "amd64", 2, "COPY node_modules", "unowned: downloaded or copied in"},
	}
	if diff := cmp.Diff(want, briefs(p.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if p.Verdict != verify.Mismatch {
		t.Errorf("verdict %s: a 32-bit ARM ELF in an arm64 image is an error", p.Verdict)
	}
	if !strings.Contains(p.Findings[1].Message, "dlopen") {
		t.Errorf("the .so finding should say it fails at dlopen: %q", p.Findings[1].Message)
	}
}

func TestOwners(t *testing.T) {
	r := registrytest.StartInProcess(t)
	cases := []struct {
		name, owner string
		db          file
		extra       []file
	}{
		{"dpkg", "dpkg:fancy-tool", reg("var/lib/dpkg/info/fancy-tool:amd64.list", 0o644, []byte("/.\n/usr\n/usr/lib\n/usr/lib/libfancy.so\n")), nil},
		{"dpkg-usrmerge", "dpkg:fancy-tool", reg("var/lib/dpkg/info/fancy-tool.list", 0o644, []byte("/.\n/lib\n/lib/libfancy.so\n")), []file{symlink("lib", "usr/lib")}},
		{"distroless", "dpkg:fancy-tool", reg("var/lib/dpkg/status.d/fancy-tool.md5sums", 0o644, []byte("d41d8cd98f00b204e9800998ecf8427e  usr/lib/libfancy.so\n")), nil},
		{"apk", "apk:fancy-tool", reg("lib/apk/db/installed", 0o644, []byte("C:Q1abc\nP:musl\nF:lib\nR:ld-musl-aarch64.so.1\n\nC:Q1def\nP:fancy-tool\nV:1.0\nF:usr/lib\nR:libfancy.so\n")), nil},
		{"rpm", "unowned or unknown: the rpm database is not read", reg("var/lib/rpm/rpmdb.sqlite", 0o644, []byte("SQLite format 3\x00")), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			im := img(t, "arm64", appCfg, base("arm64"), layer{files: c.extra},
				layer{createdBy: "RUN apt-get install fancy-tool", files: []file{dir("usr/lib/"), reg("usr/lib/libfancy.so", 0o644, bins["amd64-pie"]), c.db}},
				layer{files: []file{reg("usr/local/bin/app", 0o755, bins["arm64-exe"])}})
			ref := r.Ref("owner:" + c.name)
			registrytest.Push(t, ref, im)
			p := onlyPlatform(t, run(t, ref, verify.Options{}))
			if len(p.Findings) != 1 || p.Findings[0].Owner != c.owner || p.Findings[0].Severity != verify.SeverityWarning {
				t.Errorf("findings %+v, want one warning owned by %q", p.Findings, c.owner)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	r := registrytest.StartInProcess(t)
	zeros := make([]byte, 64<<20)
	many := make([]file, 2000)
	for i := range many {
		many[i] = reg(fmt.Sprintf("f%d", i), 0o644, nil)
	}
	cases := []struct {
		name   string
		layer  layer
		limits verify.Limits
		want   error
	}{
		{"decompression bomb", layer{files: []file{reg("zeros", 0o644, zeros)}}, verify.Limits{Ratio: 50, RatioFloor: 1 << 20}, verify.ErrBomb},
		{"uncompressed cap", layer{comp: "zstd", files: []file{reg("zeros", 0o644, zeros)}}, verify.Limits{UncompressedBytes: 8 << 20}, verify.ErrUncompressedTooLarge},
		{"compressed cap", layer{comp: "none", files: []file{reg("zeros", 0o644, zeros[:2<<20])}}, verify.Limits{CompressedBytes: 1 << 20}, verify.ErrCompressedTooLarge},
		{"entry bomb", layer{files: many}, verify.Limits{Entries: 1000}, verify.ErrTooManyEntries},
		{"path length", layer{files: []file{reg(strings.Repeat("d/", 200)+"f", 0o644, nil)}}, verify.Limits{PathLength: 256}, verify.ErrPathTooLong},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := r.Ref(fmt.Sprintf("limits:%d", i))
			registrytest.Push(t, ref, img(t, "arm64", appCfg, base("arm64"), c.layer))
			res := run(t, ref, verify.Options{Limits: c.limits})
			p := onlyPlatform(t, res)
			if p.Verdict != verify.Unknown || res.Verdict != verify.Unknown || !strings.Contains(p.Error, c.want.Error()) || !strings.Contains(p.Error, "layer 1") {
				t.Errorf("verdict %s, error %q; want unknown with %q naming layer 1", p.Verdict, p.Error, c.want)
			}
		})
	}
	t.Run("symlink loop", func(t *testing.T) {
		ref := r.Ref("limits:loop")
		registrytest.Push(t, ref, img(t, "arm64", v1.Config{Entrypoint: []string{"/a"}}, base("arm64"), layer{files: []file{symlink("a", "b"), symlink("b", "/a")}}))
		p := onlyPlatform(t, run(t, ref, verify.Options{}))
		if p.Verdict != verify.Unknown || len(p.Findings) != 1 || !strings.Contains(p.Findings[0].Message, verify.ErrSymlinkHops.Error()) {
			t.Errorf("verdict %s, findings %+v; want unknown: too many levels of symbolic links", p.Verdict, p.Findings)
		}
	})
}

func TestCache(t *testing.T) {
	r := registrytest.StartInProcess(t)
	ref := r.Ref("cache:1")
	registrytest.Push(t, ref, img(t, "arm64", appCfg, base("arm64"), layer{createdBy: curlAMD64, files: []file{reg("usr/local/bin/app", 0o755, bins["amd64-exe"])}}))
	dir := t.TempDir()
	var got [2][]brief
	for i := range 2 {
		counter := registrytest.NewCounter(nil)
		p := onlyPlatform(t, runWith(t, ref, verify.Options{CacheDir: dir}, counter))
		got[i] = briefs(p.Findings)
		// The config is a blob too; layers are the rest.
		if want := []int{3, 1}[i]; counter.Count(registrytest.BlobGET) != want {
			t.Errorf("run %d fetched %d blobs, want %d: %v", i+1, counter.Count(registrytest.BlobGET), want, counter.Requests())
		}
	}
	if diff := cmp.Diff(got[0], got[1]); diff != "" || len(got[0]) != 1 {
		t.Errorf("the cached run differs (-first +second):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 2 {
		t.Fatalf("cache dir has %d entries (%v), want one per layer", len(entries), err)
	}
	// A broken record is a miss: the layer is read again, the answer the same.
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte("not zstd"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	counter := registrytest.NewCounter(nil)
	p := onlyPlatform(t, runWith(t, ref, verify.Options{CacheDir: dir}, counter))
	if diff := cmp.Diff(got[0], briefs(p.Findings)); diff != "" || counter.Count(registrytest.BlobGET) != 3 {
		t.Errorf("after breaking the cache: %d blobs fetched (want 3), findings (-first +now):\n%s", counter.Count(registrytest.BlobGET), diff)
	}
}

func TestWriteTable(t *testing.T) {
	pr := verify.PlatformResult{Platform: platform.LinuxARM64, Verdict: verify.Mismatch, Layers: 1, Binaries: map[string]int{"amd64": 25}}
	for i := range 25 {
		pr.Findings = append(pr.Findings, verify.Finding{Severity: verify.SeverityWarning, Check: verify.CheckBinary, Path: fmt.Sprintf("/lib/%02d.so", i), Message: "m", Layer: 0, CreatedBy: "RUN  curl\n  x", Owner: "apk:x"})
	}
	var buf strings.Builder
	if err := verify.WriteTable(&buf, []verify.Result{{Ref: "r:1", Verdict: verify.Mismatch, Platforms: []verify.PlatformResult{pr}}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"r:1  MISMATCH\n", "linux/arm64    mismatch  1 layer; binaries: 25 amd64\n", "/lib/19.so\n", "layer 0: RUN curl x\n", "owner: apk:x\n", "… and 5 more findings", "0 verified, 1 mismatch, 0 missing, 0 unknown"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/lib/20.so") {
		t.Errorf("table shows more than 20 findings:\n%s", out)
	}
}

func TestDigestCheckedWhileStreaming(t *testing.T) {
	r := registrytest.StartInProcess(t)
	// A plain tar, changed in the middle of a file body: the tar stays
	// readable, only the digest tells.
	im := img(t, "arm64", appCfg, base("arm64"), layer{comp: "none", files: []file{reg("usr/local/bin/app", 0o755, bins["arm64-exe"])}})
	ref := r.Ref("tamper:1")
	registrytest.Push(t, ref, im)
	layers, _ := im.Layers()
	d, _ := layers[1].Digest()
	bad := tamper(t, r, d.String())
	p := onlyPlatform(t, run(t, bad.Ref("tamper:1"), verify.Options{}))
	if p.Verdict != verify.Unknown || !strings.Contains(p.Error, "sha256 checksum") {
		t.Errorf("verdict %s, error %q; want unknown naming the digest mismatch", p.Verdict, p.Error)
	}
}

func TestWindowsPE(t *testing.T) {
	r := registrytest.StartInProcess(t)
	layers := []mutate.Addendum{{Layer: static.NewLayer(compress(t, "gzip", tarball(t, dir("Files/"), reg("Files/app.exe", 0o755, bins["windows-amd64"]))), types.OCILayer)}}
	for _, arch := range []string{"amd64", "arm64"} {
		ref := r.Ref("windows:" + arch)
		registrytest.Push(t, ref, registrytest.LayeredImage(t, platform.Platform{OS: "windows", Architecture: arch}, v1.Config{Entrypoint: []string{`C:\\app.exe`}}, layers...))
		p := onlyPlatform(t, run(t, ref, verify.Options{}))
		if diff := cmp.Diff(map[string]int{"amd64": 1}, p.Binaries); diff != "" {
			t.Errorf("%s: binaries (-want +got):\n%s", arch, diff)
		}
		wrong := len(p.Findings) == 1 && p.Findings[0].Arch == "amd64" && p.Findings[0].Path == "/Files/app.exe"
		if (arch == "arm64") != wrong {
			t.Errorf("windows/%s image with an amd64 PE: findings %+v", arch, p.Findings)
		}
	}
}

func TestSharedLayerReadOnce(t *testing.T) {
	r := registrytest.StartInProcess(t)
	// Both platforms share a data layer (same bytes, same digest); a
	// script entrypoint keeps it honest for both.
	data := layer{createdBy: "COPY data /data", files: []file{dir("data/"), reg("data/run.sh", 0o755, []byte("#!/usr/bin/true\n"))}}
	cfg := v1.Config{Entrypoint: []string{"/data/run.sh"}}
	arm, amd := img(t, "arm64", cfg, base("arm64"), data), img(t, "amd64", cfg, base("amd64"), data)
	ref := r.Ref("shared:1")
	registrytest.PushIndex(t, ref, index(t, entry{"linux/arm64", arm}, entry{"linux/amd64", amd}))
	ls, err := arm.Layers()
	if err != nil {
		t.Fatal(err)
	}
	shared, err := ls[1].Digest()
	if err != nil {
		t.Fatal(err)
	}
	counter := registrytest.NewCounter(nil)
	res := runWith(t, ref, verify.Options{}, counter)
	if res.Verdict != verify.Verified {
		t.Fatalf("verdict %s: %+v", res.Verdict, res)
	}
	n := 0
	for _, req := range counter.Requests() {
		if strings.HasPrefix(req, "GET ") && strings.HasSuffix(req, "/blobs/"+shared.String()) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the shared layer was fetched %d times, want 1: %v", n, counter.Requests())
	}
}

// TestDistribution verifies through Debian's docker-registry over TLS with
// basic auth: the credentials and transport reach the blob reads too.
func TestDistribution(t *testing.T) {
	d := registrytest.StartDistribution(t, registrytest.DistributionOptions{TLS: true, Users: map[string]string{"puller": "s3cret"}})
	im := img(t, "arm64", appCfg, base("arm64"), layer{createdBy: curlAMD64, comp: "zstd", files: []file{reg("usr/local/bin/app", 0o755, bins["amd64-exe"])}})
	ref := d.Ref("private/liar:1")
	registrytest.PushIndex(t, ref, index(t, entry{"linux/arm64", im}), d.RemoteOptions()...)
	c, err := registry.New(registry.WithoutCache(), registry.WithTransport(d.Transport), registry.WithBasicAuth(d.Host, "puller", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := verify.Image(t.Context(), c, ref, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := onlyPlatform(t, res)
	want := []brief{{verify.SeverityError, verify.CheckEntrypoint, "/usr/local/bin/app", "amd64", 1, curlAMD64, "unowned: downloaded or copied in"}}
	if diff := cmp.Diff(want, briefs(p.Findings)); diff != "" || p.Verdict != verify.Mismatch {
		t.Errorf("verdict %s (%s), findings (-want +got):\n%s", p.Verdict, p.Error, diff)
	}
	// Without credentials: unknown, with the registry's answer.
	anon, err := registry.New(registry.WithoutCache(), registry.WithTransport(d.Transport))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := verify.Image(t.Context(), anon, ref, verify.Options{}); err == nil || res.Verdict != verify.Unknown || !strings.Contains(res.Error, "UNAUTHORIZED") {
		t.Errorf("anonymous: verdict %s, error %q; want unknown, unauthorized", res.Verdict, res.Error)
	}
}

func TestNestedIndexIsUnknown(t *testing.T) {
	r := registrytest.StartInProcess(t)
	inner := index(t, entry{"linux/arm64", img(t, "arm64", appCfg, base("arm64"), layer{files: []file{reg("usr/local/bin/app", 0o755, bins["arm64-exe"])}})})
	outer := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{Add: inner})
	ref := r.Ref("nested:1")
	registrytest.PushIndex(t, ref, outer)
	p := onlyPlatform(t, run(t, ref, verify.Options{}))
	if p.Verdict != verify.Unknown || !strings.Contains(p.Error, "an index inside the index") {
		t.Errorf("nested index: %+v; want unknown", p)
	}
	// An index of attestations only has nothing to verify: unknown, not verified.
	att := r.Ref("nested:attestations")
	registrytest.PushIndex(t, att, mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{
		Add: img(t, "unknown", v1.Config{}), Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{registrytest.AttestationAnnotation: "attestation-manifest"},
		},
	}))
	if res := run(t, att, verify.Options{}); res.Verdict != verify.Unknown || len(res.Platforms) != 0 || !strings.Contains(res.Error, "no image entries") {
		t.Errorf("attestations only: %+v; want unknown", res)
	}
}

// TestDanglingEntry: an index entry the registry does not have is a false
// claim (mismatch), while the entry beside it is still verified.
func TestDanglingEntry(t *testing.T) {
	d := registrytest.StartDistribution(t, registrytest.DistributionOptions{})
	arm := img(t, "arm64", appCfg, base("arm64"), layer{files: []file{reg("usr/local/bin/app", 0o755, bins["arm64-exe"])}})
	amd := img(t, "amd64", appCfg, base("amd64"), layer{files: []file{reg("usr/local/bin/app", 0o755, bins["amd64-exe"])}})
	ref := d.Ref("dangling:1")
	registrytest.PushIndex(t, ref, index(t, entry{"linux/arm64", arm}, entry{"linux/amd64", amd}), d.RemoteOptions()...)
	gone, err := arm.Digest()
	if err != nil {
		t.Fatal(err)
	}
	del, err := name.ParseReference(d.Ref("dangling@" + gone.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(del, d.RemoteOptions()...); err != nil {
		t.Fatal(err)
	}
	c, err := registry.New(registry.WithoutCache(), registry.WithTransport(d.Transport))
	if err != nil {
		t.Fatal(err)
	}
	res, err := verify.Image(t.Context(), c, ref, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != verify.Mismatch || len(res.Platforms) != 2 {
		t.Fatalf("verdict %s, %d platforms; want mismatch, 2: %+v", res.Verdict, len(res.Platforms), res.Platforms)
	}
	byArch := map[string]verify.PlatformResult{}
	for _, p := range res.Platforms {
		byArch[p.Platform.Architecture] = p
	}
	if p := byArch["arm64"]; p.Verdict != verify.Mismatch || len(p.Findings) != 1 || !strings.Contains(p.Findings[0].Message, "dangling entry") {
		t.Errorf("the deleted arm64 entry: %+v", p)
	}
	if p := byArch["amd64"]; p.Verdict != verify.Verified {
		t.Errorf("the amd64 entry beside it: %+v", p)
	}
}
