package sandbox

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/platform"
)

// created is the fixed build time of every image, so digests are stable.
var created = time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)

// Buildx attestation annotations and media types.
const (
	annotationRefType   = "vnd.docker.reference.type"
	annotationRefDigest = "vnd.docker.reference.digest"
	refTypeAttestation  = "attestation-manifest"
	mediaTypeInToto     = types.MediaType("application/vnd.in-toto+json")
	annotationPredicate = "in-toto.io/predicate-type"
	predicateProvenance = "https://slsa.dev/provenance/v0.2"
)

var unknownPlatform = v1.Platform{OS: "unknown", Architecture: "unknown"}

// build returns the spec as a v1.Image or a v1.ImageIndex.
func (e Spec) build() (mutate.Appendable, error) {
	if e.Kind == KindManifest {
		return e.image(e.Platforms[0])
	}
	var adds []mutate.IndexAddendum
	for _, p := range e.Platforms {
		img, err := e.image(p)
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: v1Platform(p)}})
	}
	if e.Attest {
		// buildx appends one attestation manifest per platform image,
		// after all the platform images.
		for _, a := range adds {
			att, err := e.attestation(a.Add.(v1.Image))
			if err != nil {
				return nil, err
			}
			d, err := a.Add.(v1.Image).Digest()
			if err != nil {
				return nil, err
			}
			adds = append(adds, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
				Platform:    &unknownPlatform,
				Annotations: map[string]string{annotationRefType: refTypeAttestation, annotationRefDigest: d.String()},
			}})
		}
	}
	idx := e.index(adds)
	if e.Nested {
		idx = e.index([]mutate.IndexAddendum{{Add: idx}})
	}
	return idx, nil
}

func (e Spec) index(adds []mutate.IndexAddendum) v1.ImageIndex {
	mt := types.OCIImageIndex
	if e.Docker {
		mt = types.DockerManifestList
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, mt), adds...)
}

// image builds the single-platform image of e for p: one layer holding a
// release file and a program whose header matches p, and a config whose
// os/architecture/variant are p's.
func (e Spec) image(p platform.Platform) (v1.Image, error) {
	manifestType, configType, layerType := types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayer
	if e.Docker {
		manifestType, configType, layerType = types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerLayer
	}
	content, err := e.layerTar(p)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content)), nil
	}, tarball.WithMediaType(layerType))
	if err != nil {
		return nil, fmt.Errorf("sandbox: %s:%s layer: %w", e.Repo, e.Tag, err)
	}
	img, err := mutate.Append(mutate.MediaType(empty.Image, manifestType), mutate.Addendum{Layer: layer, MediaType: layerType})
	if err != nil {
		return nil, fmt.Errorf("sandbox: %s:%s: %w", e.Repo, e.Tag, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %s:%s config: %w", e.Repo, e.Tag, err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = p.OS, p.Architecture, p.Variant, p.OSVersion
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		Entrypoint: []string{e.programPath(p)},
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Labels:     map[string]string{"org.opencontainers.image.version": e.Tag},
	}
	cf.History = []v1.History{{Created: v1.Time{Time: created}, CreatedBy: "COPY . / # buildkit", Comment: "buildkit.dockerfile.v0"}}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %s:%s config: %w", e.Repo, e.Tag, err)
	}
	return mutate.ConfigMediaType(img, configType), nil
}

// attestation builds a buildx-style attestation manifest for subject: an
// OCI manifest whose config says unknown/unknown and whose one layer is an
// in-toto provenance statement about subject.
func (e Spec) attestation(subject v1.Image) (v1.Image, error) {
	d, err := subject.Digest()
	if err != nil {
		return nil, err
	}
	stmt, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"predicateType": predicateProvenance,
		"subject": []map[string]any{{
			"name":   "pkg:docker/" + e.Repo + "@" + e.Tag,
			"digest": map[string]string{"sha256": d.Hex},
		}},
		"predicate": map[string]any{"builder": map[string]string{"id": "archway-sandbox"}, "buildType": "https://mobyproject.org/buildkit@v1"},
	})
	if err != nil {
		return nil, err
	}
	layer := static.NewLayer(stmt, mediaTypeInToto)
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{
		Layer:       layer,
		MediaType:   mediaTypeInToto,
		Annotations: map[string]string{annotationPredicate: predicateProvenance},
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: %s:%s attestation: %w", e.Repo, e.Tag, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.History = "unknown", "unknown", nil
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %s:%s attestation: %w", e.Repo, e.Tag, err)
	}
	return mutate.ConfigMediaType(img, types.OCIConfigJSON), nil
}

func (e Spec) programName() string { return e.Repo[strings.LastIndex(e.Repo, "/")+1:] }

func (e Spec) programPath(p platform.Platform) string {
	if p.OS == "windows" {
		return `C:\app\` + e.programName() + ".exe"
	}
	return "/usr/local/bin/" + e.programName()
}

// layerTar returns the uncompressed layer of e for p: /etc/demo-release
// and a program file that starts with an executable header for p (an ELF
// header with p's machine on linux, an MZ stub on windows).
func (e Spec) layerTar(p platform.Platform) ([]byte, error) {
	release := fmt.Sprintf("NAME=%s\nVERSION=%s\nPLATFORM=%s\n", e.Repo, e.Tag, p)
	var prog []byte
	progPath := strings.TrimPrefix(e.programPath(p), "/")
	if p.OS == "windows" {
		prog = append([]byte("MZ"), make([]byte, 62)...)
		progPath = "Files/app/" + e.programName() + ".exe"
	} else {
		var err error
		if prog, err = elfHeader(p); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		body []byte
	}{{"etc/demo-release", 0o644, []byte(release)}, {progPath, 0o755, prog}}
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: created, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// elfMachines maps an architecture to its ELF machine and class.
var elfMachines = map[string]struct {
	machine elf.Machine
	class   elf.Class
}{
	"amd64": {elf.EM_X86_64, elf.ELFCLASS64},
	"arm64": {elf.EM_AARCH64, elf.ELFCLASS64},
	"arm":   {elf.EM_ARM, elf.ELFCLASS32},
}

// elfHeader returns a minimal little-endian ELF executable header (no
// program or section headers) for p's architecture.
func elfHeader(p platform.Platform) ([]byte, error) {
	m, ok := elfMachines[p.Architecture]
	if !ok {
		return nil, fmt.Errorf("sandbox: no ELF machine for %s", p)
	}
	var ident [elf.EI_NIDENT]byte
	copy(ident[:], elf.ELFMAG)
	ident[elf.EI_CLASS] = byte(m.class)
	ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var buf bytes.Buffer
	var hdr any
	if m.class == elf.ELFCLASS64 {
		hdr = elf.Header64{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(m.machine), Version: uint32(elf.EV_CURRENT), Ehsize: 64}
	} else {
		hdr = elf.Header32{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(m.machine), Version: uint32(elf.EV_CURRENT), Ehsize: 52}
	}
	if err := binary.Write(&buf, binary.LittleEndian, hdr); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func v1Platform(p platform.Platform) *v1.Platform {
	return &v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}
}
