package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/registry"
)

// imageInput is one image reference and where it was given.
type imageInput struct {
	ref    string
	source string // "argument 2" or "refs.txt:14"
}

// imageRefs reads the images of a command that takes IMAGE arguments and
// -f files (check, advise) and builds the registry client for them; the
// registry of the first image is the one --username applies to.
func imageRefs(cmd *cobra.Command, command string, args, files []string, reg registryFlags) ([]string, *registry.Client, error) {
	inputs, err := readImageInputs(args, files, cmd.InOrStdin())
	if err != nil {
		return nil, nil, usageError(err)
	}
	if len(inputs) == 0 {
		return nil, nil, usageError(fmt.Errorf("%s: no images given: pass IMAGE arguments or -f FILE (see 'archway %s --help')", command, command))
	}
	client, err := reg.client(inputs[0].ref, cmd.InOrStdin())
	if err != nil {
		return nil, nil, err
	}
	refs := make([]string, len(inputs))
	for i, in := range inputs {
		refs[i] = in.ref
	}
	return refs, client, nil
}

// readImageInputs gathers the references from the arguments and from each
// -f file (one reference a line, # starts a comment, "-" is stdin), checks
// that each parses, and drops repeats, keeping the first.
func readImageInputs(args, files []string, stdin io.Reader) ([]imageInput, error) {
	var in []imageInput
	for i, a := range args {
		in = append(in, imageInput{ref: strings.TrimSpace(a), source: fmt.Sprintf("argument %d", i+1)})
	}
	var bad []error
	for _, f := range files {
		got, badLines, err := readRefFile(f, stdin)
		if err != nil {
			return nil, err
		}
		in = append(in, got...)
		bad = append(bad, badLines...)
	}
	seen := map[string]bool{}
	out := in[:0]
	for _, i := range in {
		if err := checkReference(i.ref); err != nil {
			bad = append(bad, fmt.Errorf("%s: %w", i.source, err))
			continue
		}
		if !seen[i.ref] {
			seen[i.ref] = true
			out = append(out, i)
		}
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...) // every bad line, not only the first
	}
	return out, nil
}

// checkReference parses ref as lookups will, with a clearer word for the
// mistakes people make.
func checkReference(ref string) error {
	if _, err := name.ParseReference(ref); err != nil {
		repo, _, _ := strings.Cut(ref, "@")
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i] // drop the tag
		}
		path := repo
		if host, rest, ok := strings.Cut(repo, "/"); ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
			path = rest // the registry host may have any case
		}
		if path != strings.ToLower(path) {
			return fmt.Errorf("bad image reference %q: repository names must be lowercase", ref)
		}
		return fmt.Errorf("bad image reference %q: %w", ref, err)
	}
	return nil
}

// readRefFile reads the references in file ("-" for stdin); badLines are
// the lines that are not one reference each.
func readRefFile(file string, stdin io.Reader) (refs []imageInput, badLines []error, err error) {
	r, label := stdin, "stdin"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, nil, fmt.Errorf("reading image list: %w", err)
		}
		defer f.Close()
		r, label = f, file
	}
	var out []imageInput
	var bad []error
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			bad = append(bad, fmt.Errorf("%s:%d: one image reference a line, got %q", label, n, line))
			continue
		}
		out = append(out, imageInput{ref: line, source: fmt.Sprintf("%s:%d", label, n)})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", label, err)
	}
	return out, bad, nil
}
