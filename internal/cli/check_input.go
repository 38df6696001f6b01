package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// imageInput is one image reference and where it was given.
type imageInput struct {
	ref    string
	source string // "argument 2" or "refs.txt:14"
}

// readImageInputs gathers the references from the arguments and from each
// -f file (one reference a line, # starts a comment, "-" is stdin), checks
// that each parses, and drops repeats, keeping the first.
func readImageInputs(args, files []string, stdin io.Reader) ([]imageInput, error) {
	var in []imageInput
	for i, a := range args {
		in = append(in, imageInput{ref: strings.TrimSpace(a), source: fmt.Sprintf("argument %d", i+1)})
	}
	for _, f := range files {
		got, err := readRefFile(f, stdin)
		if err != nil {
			return nil, err
		}
		in = append(in, got...)
	}
	seen := map[string]bool{}
	out := in[:0]
	for _, i := range in {
		if _, err := name.ParseReference(i.ref); err != nil {
			return nil, fmt.Errorf("%s: bad image reference %q: %w", i.source, i.ref, err)
		}
		if !seen[i.ref] {
			seen[i.ref] = true
			out = append(out, i)
		}
	}
	return out, nil
}

// readRefFile reads the references in file ("-" for stdin).
func readRefFile(file string, stdin io.Reader) ([]imageInput, error) {
	r, label := stdin, "stdin"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("reading image list: %w", err)
		}
		defer f.Close()
		r, label = f, file
	}
	var out []imageInput
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
			return nil, fmt.Errorf("%s:%d: one image reference a line, got %q", label, n, line)
		}
		out = append(out, imageInput{ref: line, source: fmt.Sprintf("%s:%d", label, n)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", label, err)
	}
	return out, nil
}
