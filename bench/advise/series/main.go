// Command series pushes a tag series to a registry for bench/advise: N
// tags 1.0.0 … 1.(N−1).0 of one repository, single-platform linux/amd64
// images below -from and linux/amd64+linux/arm64 indexes from it on, each
// image distinct (no aliases to make the search cheaper than it is).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func main() {
	reg := flag.String("registry", "", "registry host:port (plain HTTP)")
	repo := flag.String("repo", "bench/series", "repository")
	n := flag.Int("n", 200, "tags to push")
	from := flag.Int("from", 150, "first tag index with arm64")
	flag.Parse()
	if *reg == "" || *n < 1 || *from < 0 {
		fmt.Fprintln(os.Stderr, "usage: series -registry HOST:PORT [-repo R] [-n N] [-from K]")
		os.Exit(2)
	}
	for i := 0; i < *n; i++ {
		tag, err := name.NewTag(fmt.Sprintf("%s/%s:1.%d.0", *reg, *repo, i), name.Insecure)
		if err != nil {
			log.Fatal(err)
		}
		if i < *from {
			err = remote.Write(tag, image("amd64"))
		} else {
			idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
				mutate.IndexAddendum{Add: image("amd64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
				mutate.IndexAddendum{Add: image("arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
			err = remote.WriteIndex(tag, idx)
		}
		if err != nil {
			log.Fatalf("push %s: %v", tag, err)
		}
	}
}

// image is a random one-layer image whose config says linux/arch.
func image(arch string) v1.Image {
	img, err := random.Image(64, 1)
	if err != nil {
		log.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		log.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		log.Fatal(err)
	}
	return img
}
