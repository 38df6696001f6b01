package app

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

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/render"
	"github.com/archwaydev/archway/internal/rewrite"
	"github.com/archwaydev/archway/internal/source/compose"
	"github.com/archwaydev/archway/internal/source/kube"
	"github.com/archwaydev/archway/internal/source/kustomize"
	"github.com/archwaydev/archway/internal/walk"
)

// PlaceMode is what Place does with the placed files.
type PlaceMode int

// The modes.
const (
	PlaceDryRun     PlaceMode = iota // write a unified diff of what would change
	PlaceCheck                       // change nothing; the result says what would change
	PlaceInPlace                     // rewrite the files atomically
	PlaceOutDir                      // write placed copies under OutDir
	PlacePostRender                  // read a stream, write it placed (Helm --post-renderer)
)

// parser reads the files to place; compose services are read as scan
// reads them.
var parser = rewrite.Parser{Compose: compose.Parse}

// MaxStdin bounds what PostRender reads.
const MaxStdin = 256 << 20

// PlaceOptions configure Place and PostRender.
type PlaceOptions struct {
	// Mode is what to do with the placed files.
	Mode PlaceMode
	// Rewrite is the placement to write.
	Rewrite rewrite.Options
	// OutDir is where PlaceOutDir writes, keeping relative paths.
	OutDir string
	// KustomizePatch writes, for each kustomization directory, a patch
	// file and adds it to its patches instead of editing its bases.
	KustomizePatch bool
	// Render bounds each kustomize build (package render).
	Render render.Limits
	// AllowRemote lets kustomize fetch the remote resources a
	// kustomization names (see source.Options.AllowRemote).
	AllowRemote bool
	// Jobs is how many lookups run at once; at least 1.
	Jobs int
	// Out receives the diffs (PlaceDryRun) or the placed stream
	// (PlacePostRender).
	Out io.Writer
}

// PlacedFile is what Place did to one file.
type PlacedFile struct {
	// Path is the file as found (or "stdin").
	Path string
	// Changes has one entry per target of the file.
	Changes []rewrite.Change
	// Notes are file-level problems that did not stop the placement.
	Notes []string
	// Err is why the file was left untouched; the others went on.
	Err error
}

// PlaceResult is the outcome of Place.
type PlaceResult struct {
	// Files are the files with something to place, and the ones that
	// failed, in input order.
	Files []PlacedFile
	// Skipped notes inputs left alone, such as Helm charts met in a walk.
	Skipped []string
	// Changed counts the workloads placed (or, for dry runs, that would
	// be): in the writing modes, only those whose file was written.
	// Unplaced counts workloads skipped for an unknown image; Blocked those
	// no placement is right for (no cluster architecture runs every
	// container, or their own constraint conflicts); Failed the files and
	// objects that could not be read, parsed or written.
	Changed, Unplaced, Blocked, Failed int
}

// Place places the manifest files and directories at paths (directories
// walked for *.yaml, *.yml and *.json, dot-directories skipped). Every
// image is looked up once. A path that does not exist is an error; a file
// that cannot be read, parsed or written is reported in the result and the
// others go on.
func Place(ctx context.Context, l Lookuper, paths []string, o PlaceOptions) (PlaceResult, error) {
	if o.KustomizePatch {
		return placeKustomizations(ctx, l, paths, o), nil
	}
	inputs, skipped, err := findFiles(paths)
	if err != nil {
		return PlaceResult{}, err
	}
	res := PlaceResult{Skipped: skipped}
	type parsed struct {
		in   inputFile
		data []byte
		file *rewrite.File
	}
	var files []parsed
	var refs []string
	for _, in := range inputs {
		data, err := walk.ReadFile(in.path)
		if err == nil {
			var f *rewrite.File
			if f, err = parser.Parse(in.path, data); err == nil {
				switch {
				case len(f.Targets()) > 0:
					files = append(files, parsed{in, data, f})
					refs = append(refs, f.Images()...)
				case len(f.Notes()) > 0: // custom resources left alone, say
					res.add(PlacedFile{Path: in.path, Notes: f.Notes()})
				}
				continue
			}
		}
		res.add(PlacedFile{Path: in.path, Err: err})
	}
	images := lookupMap(ctx, l, refs, o.Jobs)
	for _, pf := range files {
		out, err := pf.file.Apply(images, o.Rewrite)
		placed := PlacedFile{Path: pf.in.path, Changes: out.Changes, Notes: out.Notes, Err: err}
		if err == nil {
			placed.Err = o.output(pf.in, pf.data, out.Data)
		}
		res.add(placed)
	}
	return res, nil
}

// PostRender places a manifest stream read from in and writes it to o.Out,
// as Helm's --post-renderer runs it.
func PostRender(ctx context.Context, l Lookuper, in io.Reader, o PlaceOptions) (PlaceResult, error) {
	data, err := io.ReadAll(io.LimitReader(in, MaxStdin+1))
	if err != nil {
		return PlaceResult{}, fmt.Errorf("reading stdin: %w", err)
	}
	if len(data) > MaxStdin {
		return PlaceResult{}, fmt.Errorf("stdin is larger than %d MiB", MaxStdin>>20)
	}
	f, err := parser.Parse("stdin", data)
	if err != nil {
		return PlaceResult{}, err
	}
	out, err := f.Apply(lookupMap(ctx, l, f.Images(), o.Jobs), o.Rewrite)
	if err != nil {
		return PlaceResult{}, err
	}
	var res PlaceResult
	res.add(PlacedFile{Path: "stdin", Changes: out.Changes, Notes: out.Notes})
	if _, err := o.Out.Write(out.Data); err != nil {
		return res, fmt.Errorf("writing stdout: %w", err)
	}
	return res, nil
}

// add counts one file's outcome into r.
func (r *PlaceResult) add(f PlacedFile) {
	r.Files = append(r.Files, f)
	if f.Err != nil {
		r.Failed++
	}
	for _, c := range f.Changes {
		switch {
		case c.Err != nil:
			r.Failed++
		case c.Skipped != "":
			r.Unplaced++
		case c.Blocked:
			r.Blocked++
		case c.Changed && f.Err == nil:
			r.Changed++
		}
	}
}

// lookupMap looks refs up, each once, and keys the results by reference.
func lookupMap(ctx context.Context, l Lookuper, refs []string, jobs int) map[string]lookup.Result {
	b := lookup.NewBatch(ctx, l.Lookup, jobs, nil)
	go func() {
		b.Add(refs...)
		b.Close()
	}()
	return b.Wait()
}

// inputFile is one file to place and where PlaceOutDir writes it.
type inputFile struct {
	path string // as found
	rel  string // relative path under OutDir
}

// findFiles expands the paths: files as given, directories walked for
// manifest files, symbolic links by package walk's rule within the
// directories given. A Helm chart met in a walk is skipped (its templates
// are not YAML until rendered), and so is a link not followed, each with a
// note.
func findFiles(paths []string) ([]inputFile, []string, error) {
	var out []inputFile
	var skipped []string
	within := walk.Dirs(paths)
	for _, a := range paths {
		info, err := os.Stat(a)
		if err != nil {
			return nil, nil, err
		}
		if !info.IsDir() {
			out = append(out, inputFile{path: a, rel: filepath.Base(a)})
			continue
		}
		err = walk.Dir(a, walk.Options{Within: within, Reads: kube.IsManifestFile}, func(p string, d fs.DirEntry, err error) error {
			var le *walk.LinkError
			if errors.As(err, &le) {
				skipped = append(skipped, le.Error())
				return nil
			}
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != a && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				if _, err := os.Stat(filepath.Join(p, "Chart.yaml")); err == nil {
					skipped = append(skipped, p+" is a Helm chart, skipped: place its rendered output with --post-renderer")
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
			return nil, nil, err
		}
	}
	return out, skipped, nil
}

// output does what the mode says with one file's old and new content.
func (o PlaceOptions) output(in inputFile, old, new []byte) error {
	switch o.Mode {
	case PlaceDryRun:
		return rewrite.WriteDiff(o.Out, in.path, old, new)
	case PlaceInPlace:
		if bytes.Equal(old, new) {
			return nil
		}
		return rewrite.ReplaceFile(in.path, old, new)
	case PlaceOutDir:
		dst := filepath.Join(o.OutDir, in.rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", dst, err)
		}
		return rewrite.WriteFile(dst, new)
	}
	return nil // check: nothing written
}

// placeKustomizations writes, for each kustomization directory, a patch
// file with the placement of the objects it builds and adds it to its
// patches.
func placeKustomizations(ctx context.Context, l Lookuper, dirs []string, o PlaceOptions) PlaceResult {
	var res PlaceResult
	for _, dir := range dirs {
		changes, notes, err := placeKustomization(ctx, l, dir, o)
		res.add(PlacedFile{Path: kustomize.DisplayName(dir), Changes: changes, Notes: notes, Err: err})
	}
	return res
}

// placeKustomization places one kustomization; notes are kustomize's
// deprecation warnings.
func placeKustomization(ctx context.Context, l Lookuper, dir string, o PlaceOptions) (changes []rewrite.Change, notes []string, err error) {
	kpath := ""
	for _, n := range kustomize.FileNames {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			kpath = filepath.Join(dir, n)
			break
		}
	}
	if kpath == "" {
		return nil, nil, fmt.Errorf("%s: no kustomization.yaml", dir)
	}
	kdata, err := walk.ReadFile(kpath)
	if err != nil {
		return nil, notes, err
	}
	built, err := render.Kustomize(ctx, dir, kustomize.BuildOptions{AllowRemote: o.AllowRemote}, o.Render)
	notes = built.Warnings
	if err != nil {
		return nil, notes, err
	}
	f, err := parser.Parse(kustomize.DisplayName(dir), built.YAML)
	if err != nil {
		return nil, notes, err
	}
	images := lookupMap(ctx, l, f.Images(), o.Jobs)
	patchPath := filepath.Join(dir, rewrite.PatchFile)
	existing, err := walk.ReadFile(patchPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, notes, err
	}
	rename, err := rewrite.KustomizeRename(kdata)
	if err != nil {
		return nil, notes, fmt.Errorf("%s: %w", kpath, err)
	}
	patch, changes, err := f.KustomizePatch(existing, images, o.Rewrite, rename)
	if err != nil || bytes.Equal(patch, existing) {
		return changes, notes, err
	}
	newK, _, err := rewrite.AddKustomizePatch(kdata, rewrite.PatchFile)
	if err != nil {
		return changes, notes, fmt.Errorf("%s: %w", kpath, err)
	}
	switch o.Mode {
	case PlaceDryRun:
		if err := rewrite.WriteDiff(o.Out, patchPath, existing, patch); err != nil {
			return changes, notes, err
		}
		return changes, notes, rewrite.WriteDiff(o.Out, kpath, kdata, newK)
	case PlaceInPlace:
		if err := rewrite.ReplaceFile(patchPath, existing, patch); err != nil {
			return changes, notes, err
		}
		if !bytes.Equal(kdata, newK) {
			return changes, notes, rewrite.ReplaceFile(kpath, kdata, newK)
		}
	}
	return changes, notes, nil
}
