package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/archwaydev/archway/internal/rewrite"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/source/kustomize"
)

// maxStdin bounds what --post-renderer reads.
const maxStdin = 256 << 20

// inputFile is one file to place and where -o writes it.
type inputFile struct {
	path string // as found
	rel  string // relative path under -o
}

// findFiles expands the arguments: files as given, directories walked for
// *.yaml, *.yml and *.json (dot-directories skipped). A Helm chart met in a
// walk is skipped (its templates are not YAML until rendered) with a note.
func findFiles(args []string, notes io.Writer) ([]inputFile, error) {
	var out []inputFile
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("place: %w", err)
		}
		if !info.IsDir() {
			out = append(out, inputFile{path: a, rel: filepath.Base(a)})
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != a && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				if _, err := os.Stat(filepath.Join(p, "Chart.yaml")); err == nil {
					fmt.Fprintf(notes, "archway place: %s is a Helm chart, skipped: place its rendered output with --post-renderer\n", p)
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || !kube.IsManifestFile(p) {
				return nil
			}
			rel, err := filepath.Rel(a, p)
			if err != nil {
				return err
			}
			out = append(out, inputFile{path: p, rel: rel})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("place: %w", err)
		}
	}
	return out, nil
}

// parsedFile is a file with something to place.
type parsedFile struct {
	inputFile
	data []byte
	file *rewrite.File
}

// files places manifest files and directories.
func (p *placer) files(ctx context.Context, args []string) error {
	inputs, err := findFiles(args, p.stderr)
	if err != nil {
		return usageError(err)
	}
	var parsed []parsedFile
	var refs []string
	seen := map[string]bool{}
	for _, in := range inputs {
		data, err := os.ReadFile(in.path)
		if err != nil {
			fmt.Fprintf(p.stderr, "archway place: %v\n", err)
			p.failed++
			continue
		}
		f, err := rewrite.Parse(in.path, data)
		if err != nil {
			fmt.Fprintf(p.stderr, "archway place: %v (left untouched)\n", err)
			p.failed++
			continue
		}
		if len(f.Targets()) == 0 {
			continue
		}
		parsed = append(parsed, parsedFile{inputFile: in, data: data, file: f})
		for _, r := range f.Images() {
			if !seen[r] {
				seen[r] = true
				refs = append(refs, r)
			}
		}
	}
	images, err := p.images(ctx, refs)
	if err != nil {
		return err
	}
	for _, pf := range parsed {
		res, err := pf.file.Apply(images, p.opts)
		if err != nil {
			fmt.Fprintf(p.stderr, "archway place: %v (left untouched)\n", err)
			p.failed++
			continue
		}
		p.report(pf.path, res.Changes)
		for _, n := range res.Notes {
			fmt.Fprintf(p.stderr, "%s: note: %s\n", pf.path, n)
		}
		if err := p.output(pf.path, pf.rel, pf.data, res.Data); err != nil {
			fmt.Fprintf(p.stderr, "archway place: %v\n", err)
			p.failed++
		}
	}
	return p.exit()
}

// output does what the mode says with one file's old and new content.
func (p *placer) output(path, rel string, old, new []byte) error {
	switch p.mode {
	case modeDryRun:
		return writeDiff(p.stdout, path, old, new)
	case modeInPlace:
		if bytes.Equal(old, new) {
			return nil
		}
		return rewrite.WriteFile(path, new)
	case modeOutDir:
		dst := filepath.Join(p.outDir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", dst, err)
		}
		return rewrite.WriteFile(dst, new)
	}
	return nil // check: nothing written
}

// writeDiff writes a unified diff of one file (nothing when unchanged).
func writeDiff(w io.Writer, path string, old, new []byte) error {
	if bytes.Equal(old, new) {
		return nil
	}
	slash := filepath.ToSlash(path)
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(old)), B: difflib.SplitLines(string(new)),
		FromFile: "a/" + strings.TrimPrefix(slash, "/"), ToFile: "b/" + strings.TrimPrefix(slash, "/"),
		Context: 3,
	})
	if err != nil {
		return fmt.Errorf("diff of %s: %w", path, err)
	}
	_, err = io.WriteString(w, diff)
	return err
}

// postRender places a manifest stream from stdin onto stdout, as Helm's
// --post-renderer runs it: the manifests come on stdin, what is written to
// stdout is installed, and a non-zero exit fails the release with stderr
// shown. Reports go to stderr only.
func (p *placer) postRender(ctx context.Context, stdin io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(stdin, maxStdin+1))
	if err != nil {
		return withCode(ExitError, fmt.Errorf("place: reading stdin: %w", err))
	}
	if len(data) > maxStdin {
		return withCode(ExitError, fmt.Errorf("place: stdin is larger than %d MiB", maxStdin>>20))
	}
	f, err := rewrite.Parse("stdin", data)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("place: %w", err))
	}
	images, err := p.images(ctx, f.Images())
	if err != nil {
		return err
	}
	res, err := f.Apply(images, p.opts)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("place: %w", err))
	}
	p.report("stdin", res.Changes)
	if _, err := p.stdout.Write(res.Data); err != nil {
		return withCode(ExitError, fmt.Errorf("place: writing stdout: %w", err))
	}
	return p.exit()
}

// kustomize writes, for each kustomization directory, a patch file with
// the placement of the objects it builds and adds it to its patches.
func (p *placer) kustomize(ctx context.Context, dirs []string) error {
	for _, dir := range dirs {
		if err := p.kustomizeDir(ctx, dir); err != nil {
			var ee *exitError
			if errors.As(err, &ee) {
				return err
			}
			fmt.Fprintf(p.stderr, "archway place: %v\n", err)
			p.failed++
		}
	}
	return p.exit()
}

func (p *placer) kustomizeDir(ctx context.Context, dir string) error {
	kpath := ""
	for _, n := range kustomize.FileNames {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			kpath = filepath.Join(dir, n)
			break
		}
	}
	if kpath == "" {
		return fmt.Errorf("%s: no kustomization.yaml", dir)
	}
	kdata, err := os.ReadFile(kpath)
	if err != nil {
		return err
	}
	built, err := kustomize.Build(dir)
	if err != nil {
		return err
	}
	f, err := rewrite.Parse(kustomize.DisplayName(dir), built)
	if err != nil {
		return err
	}
	images, err := p.images(ctx, f.Images())
	if err != nil {
		return err
	}
	patchPath := filepath.Join(dir, rewrite.PatchFile)
	existing, err := os.ReadFile(patchPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	rename, err := rewrite.KustomizeRename(kdata)
	if err != nil {
		return fmt.Errorf("%s: %w", kpath, err)
	}
	patch, changes, err := f.KustomizePatch(existing, images, p.opts, rename)
	if err != nil {
		return err
	}
	p.report(kustomize.DisplayName(dir), changes)
	if bytes.Equal(patch, existing) {
		return nil
	}
	newK, _, err := rewrite.AddKustomizePatch(kdata, rewrite.PatchFile)
	if err != nil {
		return fmt.Errorf("%s: %w", kpath, err)
	}
	switch p.mode {
	case modeDryRun:
		if err := writeDiff(p.stdout, patchPath, existing, patch); err != nil {
			return err
		}
		return writeDiff(p.stdout, kpath, kdata, newK)
	case modeInPlace:
		if err := rewrite.WriteFile(patchPath, patch); err != nil {
			return err
		}
		if !bytes.Equal(kdata, newK) {
			return rewrite.WriteFile(kpath, newK)
		}
	}
	return nil
}
