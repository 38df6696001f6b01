package verify

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// Severities of a Finding, worst first.
const (
	SeverityError   = "error"
	SeverityUnknown = "unknown" // the verifier could not tell
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Checks a Finding can come from.
const (
	CheckClaims      = "claims"      // descriptor vs config
	CheckEntrypoint  = "entrypoint"  // Entrypoint/Cmd[0] and what it runs
	CheckInterpreter = "interpreter" // a script's interpreter
	CheckLoader      = "loader"      // an ELF's PT_INTERP
	CheckPath        = "path"        // an ELF in a PATH directory
	CheckBinary      = "binary"      // any other ELF or PE file
)

// defaultPath is the PATH a container gets when its config sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Finding is one thing the verifier found wrong, or could not tell.
type Finding struct {
	// Severity is error, unknown, warning or info.
	Severity string `json:"severity"`
	// Check is the rule that found it (claims, entrypoint, interpreter, loader, path, binary).
	Check string `json:"check"`
	// Path is the file, as reached (a PATH entry, a symlink) when that differs from its real path.
	Path string `json:"path,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Arch is the machine the file is built for.
	Arch string `json:"arch,omitempty"`
	// Layer is the index (from 0, lowest first) of the layer that brought the file; -1 when none.
	Layer int `json:"layer"`
	// CreatedBy is that layer's history created_by, e.g. the RUN line.
	CreatedBy string `json:"createdBy,omitempty"`
	// Owner is the package that owns the file, or why none does.
	Owner string `json:"owner,omitempty"`
}

// image is what the judge needs of an image's config.
type image struct {
	os, arch   string // the claim the binaries are judged against
	entrypoint []string
	cmd        []string
	env        []string
	workdir    string
	createdBy  []string // per layer
}

// platform is the image's os/arch, as messages show it.
func (i image) platform() string { return i.os + "/" + i.arch }

// judge checks the final filesystem against the image's platform.
type judge struct {
	fs       *fsys
	img      image
	allow    []string
	findings map[string]Finding // by real path (or a key for unresolvable ones)
	closure  map[string]bool    // real paths in the entrypoint closure
	pathDirs []string
}

// run returns the findings, worst first, and the count of ELF (or PE)
// files per architecture.
func (j *judge) run() ([]Finding, map[string]int) {
	j.findings, j.closure = map[string]Finding{}, map[string]bool{}
	j.pathDirs = j.resolvePathDirs()
	if j.img.os != "windows" {
		j.entrypoint()
	}
	j.pathLinks()
	archs := map[string]int{}
	for p, n := range j.fs.files {
		if n.Type != TypeFile || n.Bin == nil || n.Bin.Kind == KindScript {
			continue
		}
		if (j.img.os == "windows") != (n.Bin.Kind == KindPE) {
			continue
		}
		if n.Bin.Kind == KindELF && n.Bin.Type != "exec" && n.Bin.Type != "dyn" {
			continue // object files and cores never run
		}
		archs[n.Bin.Arch]++
		if j.matches(n.Bin) || j.closure[p] {
			continue
		}
		sev, check := SeverityWarning, CheckBinary
		switch {
		case j.allowed(p):
			sev = SeverityInfo
		case j.img.arch == "arm64" && n.Bin.Arch == "arm":
			sev = SeverityError // Graviton4 and later run no 32-bit code
		case slices.Contains(j.pathDirs, path.Dir(p)):
			sev, check = SeverityError, CheckPath
		}
		what := "shared object"
		if n.Bin.Type == "exec" || n.Mode&0o111 != 0 {
			what = "executable"
		}
		msg := fmt.Sprintf("%s built for %s in a %s image", what, describe(n.Bin), j.img.platform())
		if check == CheckPath {
			msg += "; it is on PATH, so running it fails with 'exec format error'"
		} else if n.Bin.Arch == "arm" && j.img.arch == "arm64" {
			msg += "; arm64 hosts without 32-bit support (AWS Graviton4 and later) cannot run it"
		} else if what == "shared object" {
			msg += "; loading it fails at dlopen ('wrong ELF class' or 'invalid ELF header')"
		}
		j.add(p, p, sev, check, msg, n)
	}
	out := make([]Finding, 0, len(j.findings))
	for _, f := range j.findings {
		out = append(out, f)
	}
	sortFindings(out)
	return out, archs
}

// sortFindings orders findings worst first, then the entrypoint closure
// before the rest, then by path.
func sortFindings(fs []Finding) {
	rank := severityRank
	checks := map[string]int{CheckClaims: 0, CheckEntrypoint: 1, CheckInterpreter: 2, CheckLoader: 3, CheckPath: 4, CheckBinary: 5}
	sort.SliceStable(fs, func(a, b int) bool {
		if rank[fs[a].Severity] != rank[fs[b].Severity] {
			return rank[fs[a].Severity] < rank[fs[b].Severity]
		}
		if checks[fs[a].Check] != checks[fs[b].Check] {
			return checks[fs[a].Check] < checks[fs[b].Check]
		}
		return fs[a].Path < fs[b].Path
	})
}

// matches reports whether b runs on the image's architecture.
func (j *judge) matches(b *Binary) bool { return b.Arch == j.img.arch }

// describe names a binary's machine and class, e.g. "amd64 (ELF 64-bit)".
func describe(b *Binary) string {
	if b.Kind == KindPE {
		return b.Arch + " (PE)"
	}
	return fmt.Sprintf("%s (ELF %d-bit)", b.Arch, b.Class)
}

// allowed reports whether an --allow glob names p.
func (j *judge) allowed(p string) bool {
	for _, g := range j.allow {
		if globMatch(path.Join("/", g), p) { // "usr/bin/qemu-*" means /usr/bin/qemu-*
			return true
		}
	}
	return false
}

// globMatch is path.Match where "**" also matches across slashes.
func globMatch(glob, p string) bool {
	if ok, _ := path.Match(glob, p); ok {
		return true
	}
	if before, after, ok := strings.Cut(glob, "**"); ok {
		if !strings.HasPrefix(p, before) {
			return false
		}
		rest := p[len(before):]
		for i := 0; i <= len(rest); i++ {
			if globMatch(after, rest[i:]) || (strings.HasPrefix(after, "/") && globMatch(after[1:], rest[i:])) {
				return true
			}
		}
	}
	return false
}

// add records a finding for the file at real path p (reached as shown);
// a worse one for the same key replaces a milder one.
func (j *judge) add(key, shown, sev, check, msg string, n *node) {
	f := Finding{Severity: sev, Check: check, Path: shown, Message: msg, Layer: -1}
	if n != nil {
		f.Layer = n.layer
		if n.Bin != nil && n.Bin.Kind != KindScript {
			f.Arch = n.Bin.Arch
		}
		if n.layer >= 0 && n.layer < len(j.img.createdBy) {
			f.CreatedBy = j.img.createdBy[n.layer]
		}
		f.Owner = j.fs.owners.owner(n.Path)
		reached, _, _ := strings.Cut(shown, " → ")
		if name, ok := j.fs.owners.by[reached]; ok {
			f.Owner = name
		}
	}
	if old, ok := j.findings[key]; ok && worse(old.Severity, sev) {
		return
	}
	j.findings[key] = f
}

// severityRank orders severities, worst first.
var severityRank = map[string]int{SeverityError: 0, SeverityUnknown: 1, SeverityWarning: 2, SeverityInfo: 3}

// worse reports whether severity a is at least as bad as b.
func worse(a, b string) bool { return severityRank[a] <= severityRank[b] }

// env returns the value of name in the config's environment.
func (j *judge) env(name string) (string, bool) {
	for _, kv := range j.img.env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// pathList is the image's PATH, or the runtime's default.
func (j *judge) pathList() []string {
	p, ok := j.env("PATH")
	if !ok {
		p = defaultPath
	}
	var dirs []string
	for _, d := range strings.Split(p, ":") {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// resolvePathDirs returns the real paths of the PATH directories.
func (j *judge) resolvePathDirs() []string {
	var out []string
	for _, d := range j.pathList() {
		if n, real, err := j.fs.resolve(d); err == nil && n.Type == TypeDir && !slices.Contains(out, real) {
			out = append(out, real)
		}
	}
	return out
}

// pathLinks flags symlinks in PATH directories that lead to an ELF of
// the wrong machine elsewhere: the command is on PATH all the same.
func (j *judge) pathLinks() {
	if j.img.os == "windows" {
		return
	}
	for p, n := range j.fs.files {
		if n.Type != TypeSymlink || !slices.Contains(j.pathDirs, path.Dir(p)) {
			continue
		}
		t, real, err := j.fs.resolve(p)
		if err != nil || t.Type != TypeFile || t.Bin == nil || t.Bin.Kind != KindELF || j.matches(t.Bin) || j.allowed(real) || j.allowed(p) {
			continue
		}
		j.add(real, p+" → "+real, SeverityError, CheckPath,
			fmt.Sprintf("%s on PATH leads to an executable built for %s in a %s image: running it fails with 'exec format error'", p, describe(t.Bin), j.img.platform()), t)
	}
}

// lookPath finds name as the runtime does: a name with a slash is a path
// (relative to the working directory), else the first executable file of
// that name in a PATH directory.
func (j *judge) lookPath(name string) (string, bool) {
	if strings.Contains(name, "/") {
		if !path.IsAbs(name) {
			name = path.Join("/", j.img.workdir, name)
		}
		return name, true
	}
	for _, d := range j.pathList() {
		p := path.Join(d, name)
		if n, _, err := j.fs.resolve(p); err == nil && n.Type == TypeFile && n.Mode&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// entrypoint checks the entrypoint closure.
func (j *judge) entrypoint() {
	argv := append(slices.Clone(j.img.entrypoint), j.img.cmd...)
	if len(argv) == 0 || argv[0] == "" {
		return // nothing runs by default; nothing to judge
	}
	p, ok := j.lookPath(argv[0])
	if !ok {
		j.add("entrypoint:"+argv[0], argv[0], SeverityError, CheckEntrypoint,
			fmt.Sprintf("entrypoint %q is not an executable file on PATH (%s)", argv[0], strings.Join(j.pathList(), ":")), nil)
		return
	}
	j.exec(p, CheckEntrypoint, "entrypoint", 0)
	if cmd := shellCommand(argv); cmd != "" {
		if p, ok := j.lookPath(cmd); ok {
			j.exec(p, CheckEntrypoint, "command of the entrypoint's shell", 0)
		} else {
			j.add("entrypoint:"+cmd, cmd, SeverityError, CheckEntrypoint,
				fmt.Sprintf("command %q of the entrypoint's shell is not an executable file on PATH (%s)", cmd, strings.Join(j.pathList(), ":")), nil)
		}
	}
}

// shellCommand returns the command a shell-form entrypoint runs first
// (["/bin/sh", "-c", "exec app --flag"] → app), or "" when argv is no
// shell form or the command is not a plain word (a variable, a builtin).
func shellCommand(argv []string) string {
	if len(argv) < 3 || argv[1] != "-c" || !slices.Contains([]string{"sh", "bash", "dash", "ash"}, path.Base(argv[0])) {
		return ""
	}
	for _, w := range strings.Fields(argv[2]) {
		switch {
		case w == "exec" || strings.Contains(w, "=") && !strings.HasPrefix(w, "="):
			continue // exec app, or VAR=value app
		case strings.ContainsAny(w, "$`'\"\\;&|<>(){}*?[]") || slices.Contains([]string{"cd", "echo", "set", "export", "if", "for", "while", "test", "true", ":", "."}, w):
			return ""
		}
		return w
	}
	return ""
}

// maxInterpDepth is how many interpreters deep a script may go (Linux
// allows 4 levels of binfmt rewriting).
const maxInterpDepth = 4

// exec checks that the file at p runs on the image's architecture: an ELF
// of the right machine whose loader exists and matches, or a script whose
// interpreter does. role names p in messages.
func (j *judge) exec(p, check, role string, depth int) {
	n, real, err := j.fs.resolve(p)
	switch {
	case errors.Is(err, ErrSymlinkHops):
		j.add(check+":"+p, p, SeverityUnknown, check, fmt.Sprintf("%s %s: %v", role, p, err), nil)
		return
	case err != nil:
		j.add(check+":"+p, p, SeverityError, check,
			fmt.Sprintf("%s %s does not exist in the image: running it fails with 'no such file or directory'", role, p), nil)
		return
	case n.Type != TypeFile:
		j.add(real, p, SeverityError, check, fmt.Sprintf("%s %s is a %s, not a file", role, p, n.Type), n)
		return
	}
	j.closure[real] = true
	shown := p
	if real != p {
		shown = p + " → " + real
	}
	b := n.Bin
	switch {
	case b == nil:
		j.add(real, shown, SeverityError, check,
			fmt.Sprintf("%s %s is neither an ELF binary nor a script: running it fails with 'exec format error'", role, shown), n)
	case b.Kind == KindELF && !j.matches(b):
		j.add(real, shown, SeverityError, check,
			fmt.Sprintf("%s %s is built for %s in a %s image: running it fails with 'exec format error'", role, shown, describe(b), j.img.platform()), n)
	case b.Kind == KindELF && b.Truncated:
		j.add(real, shown, SeverityUnknown, check,
			fmt.Sprintf("%s %s: its program headers lie past the first %d bytes; its loader was not checked", role, shown, maxHeadBytes), n)
	case b.Kind == KindELF && b.Interp != "":
		j.loader(b.Interp, shown)
	case b.Kind == KindScript:
		if depth >= maxInterpDepth {
			j.add(real, shown, SeverityError, CheckInterpreter, fmt.Sprintf("%s %s: more than %d interpreters deep", role, shown, maxInterpDepth), n)
			return
		}
		j.script(b, shown, depth)
	case b.Kind == KindPE:
		j.add(real, shown, SeverityError, check, fmt.Sprintf("%s %s is a Windows PE file in a linux image", role, shown), n)
	}
}

// loader checks an ELF's PT_INTERP.
func (j *judge) loader(interp, of string) {
	n, real, err := j.fs.resolve(interp)
	if err != nil || n.Type != TypeFile {
		j.add("loader:"+interp, interp, SeverityError, CheckLoader,
			fmt.Sprintf("loader %s of %s is missing: running it fails with 'no such file or directory'", interp, of), nil)
		return
	}
	j.closure[real] = true
	if n.Bin == nil || n.Bin.Kind != KindELF || !j.matches(n.Bin) {
		what := "not an ELF file"
		if n.Bin != nil && n.Bin.Kind == KindELF {
			what = "built for " + describe(n.Bin)
		}
		j.add(real, interp, SeverityError, CheckLoader, fmt.Sprintf("loader %s of %s is %s in a %s image", interp, of, what, j.img.platform()), n)
	}
}

// script checks a script's interpreter, and X of "#!/usr/bin/env X".
func (j *judge) script(b *Binary, of string, depth int) {
	j.exec(b.Interp, CheckInterpreter, "interpreter of "+of, depth+1)
	if path.Base(b.Interp) != "env" {
		return
	}
	x := envCommand(b.Arg)
	if x == "" {
		j.add("interpreter:"+of, of, SeverityError, CheckInterpreter, fmt.Sprintf("script %s runs env with no command", of), nil)
		return
	}
	p, ok := j.lookPath(x)
	if !ok {
		j.add("interpreter:"+x, x, SeverityError, CheckInterpreter,
			fmt.Sprintf("interpreter %q of %s (via env) is not an executable file on PATH (%s)", x, of, strings.Join(j.pathList(), ":")), nil)
		return
	}
	j.exec(p, CheckInterpreter, "interpreter of "+of, depth+1)
}

// envCommand returns the command of an env shebang argument: the first
// word that is neither an option nor NAME=VALUE ("-S python3 -u" → python3).
func envCommand(arg string) string {
	for _, w := range strings.Fields(arg) {
		if strings.HasPrefix(w, "-") || strings.Contains(w, "=") {
			continue
		}
		return w
	}
	return ""
}
