package verify

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/archwaydev/archway/internal/walk"
)

// Rules of LintDockerfile.
const (
	RuleLiteralArch     = "literal-arch"     // amd64 & co. in RUN/ADD, not from TARGETARCH
	RuleConstPlatform   = "const-platform"   // FROM --platform=<constant> on the final stage
	RuleContextBinaries = "context-binaries" // node_modules or .so copied from the build context
)

// LintFinding is one Dockerfile line that tends to put binaries of the
// wrong architecture into an image.
type LintFinding struct {
	// File and Line locate the instruction.
	File string `json:"file"`
	Line int    `json:"line"`
	// Severity is error or warning.
	Severity string `json:"severity"`
	// Rule is one of the Rule constants.
	Rule string `json:"rule"`
	// Instruction is the instruction as written.
	Instruction string `json:"instruction"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Suggestion is the rewritten instruction (with the ARG it needs), or advice.
	Suggestion string `json:"suggestion,omitempty"`
}

// literalArch finds an x86-64 name standing as its own word part.
var literalArch = regexp.MustCompile(`(?i)(^|[^a-z0-9])(amd64|x86_64|x86-64|x64|linux64)([^a-z0-9]|$)`)

// armLiteral finds an arm64 name: an instruction naming both is a mapping
// between architectures (a case statement), not a hard-coded one.
var armLiteral = regexp.MustCompile(`(?i)(^|[^a-z0-9])(arm64|aarch64)([^a-z0-9]|$)`)

// derivedArch are the ways an instruction can take its architecture from
// the build rather than hard-code it.
var derivedArch = []string{"TARGETARCH", "TARGETPLATFORM", "TARGETVARIANT", "uname -m", "dpkg --print-architecture", "apk --print-arch", "$(arch)", "`arch`"}

// builderPlatform marks a stage that runs on the build machine: what it
// downloads is for the builder, not for the image.
var builderPlatform = []string{"BUILDPLATFORM", "BUILDARCH", "BUILDOS"}

// LintDockerfile reads a Dockerfile's bytes (name is the file name shown
// in findings) and reports: literal amd64, x86_64, x86-64, x64 or linux64
// in RUN and ADD instructions that do not derive the architecture from
// TARGETARCH, TARGETPLATFORM, uname -m or dpkg --print-architecture
// (stages on $BUILDPLATFORM excepted); FROM --platform=<constant> on the
// final stage; and node_modules or shared objects (.so, .node) copied from
// the build context. It uses BuildKit's parser, as the Dockerfile source
// does.
func LintDockerfile(name string, data []byte) (out []LintFinding, err error) {
	defer func() {
		if r := recover(); r != nil { // BuildKit's parser is not ours
			out, err = nil, fmt.Errorf("%s: cannot parse: %v", name, r)
		}
	}()
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	stages, _, err := instructions.Parse(res.AST, linter.New(&linter.Config{SkipAll: true}))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i, st := range stages {
		final := i == len(stages)-1
		if final && st.Platform != "" && !strings.Contains(st.Platform, "$") {
			out = append(out, LintFinding{File: name, Line: line(st.Location), Severity: SeverityError, Rule: RuleConstPlatform,
				Instruction: st.SourceCode,
				Message:     fmt.Sprintf("the final stage is pinned to %s: every platform of a multi-platform build gets %s binaries", st.Platform, st.Platform),
				Suggestion:  strings.Replace(st.SourceCode, "--platform="+st.Platform, "--platform=$TARGETPLATFORM", 1) + "   (or drop --platform)",
			})
		}
		if containsAny(st.Platform, builderPlatform) {
			continue
		}
		hasArg := false
		derived := slices.Clone(derivedArch) // grows with the stage's ARG/ENV taken from them
		derive := func(key, value string) {
			if containsAny(value, derived) {
				derived = append(derived, "$"+key, "${"+key+"}")
			}
		}
		for _, c := range st.Commands {
			switch c := c.(type) {
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					hasArg = hasArg || kv.Key == "TARGETARCH"
					if kv.Value != nil {
						derive(kv.Key, *kv.Value)
					}
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					derive(kv.Key, kv.Value)
				}
			case *instructions.RunCommand:
				out = append(out, lintArch(name, c.String(), line(c.Location()), strings.Join(c.CmdLine, " "), "", derived, hasArg)...)
			case *instructions.AddCommand:
				out = append(out, lintArch(name, c.String(), line(c.Location()), strings.Join(c.SourcePaths, " "), c.DestPath, derived, hasArg)...)
				out = append(out, lintContext(name, c.String(), line(c.Location()), c.SourcePaths)...)
			case *instructions.CopyCommand:
				if c.From == "" {
					out = append(out, lintContext(name, c.String(), line(c.Location()), c.SourcePaths)...)
				}
			}
		}
	}
	return out, nil
}

// LintDockerfileFile reads the Dockerfile at path and lints it; see
// [LintDockerfile].
func LintDockerfileFile(path string) ([]LintFinding, error) {
	data, err := walk.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return LintDockerfile(path, data)
}

// lintArch flags a literal x86-64 name in text (of instruction ins; an
// ADD when addDest, its destination, is set) unless text uses one of the
// derived markers.
func lintArch(file, ins string, line int, text, addDest string, derived []string, hasArg bool) []LintFinding {
	m := literalArch.FindStringSubmatch(text)
	if m == nil || containsAny(text, derived) || armLiteral.MatchString(text) {
		return nil // derived from the build, or a mapping that names arm too
	}
	lit := m[2]
	var rewritten string
	switch strings.ToLower(lit) {
	case "amd64":
		rewritten = replaceArch(ins, lit, "${TARGETARCH}")
	case "x86_64":
		rewritten = replaceArch(ins, lit, "$(uname -m)")
		if addDest != "" { // ADD runs no shell: download in RUN instead
			rewritten = "RUN curl -fsSL " + replaceArch(text, lit, "$(uname -m)") + " -o " + addDest
		}
	default: // x64, linux64, x86-64: the project's own names; map TARGETARCH to them
		mapping := "ARCH=$(case ${TARGETARCH} in amd64) echo " + lit + ";; arm64) echo arm64;; esac) && "
		if addDest != "" {
			rewritten = "RUN " + mapping + "curl -fsSL " + replaceArch(text, lit, "${ARCH}") + " -o " + addDest
		} else {
			keyword, rest, _ := strings.Cut(replaceArch(ins, lit, "${ARCH}"), " ")
			rewritten = keyword + " " + mapping + strings.TrimSpace(rest)
		}
		rewritten += "\n(check the project's name for its arm64 file)"
	}
	if !hasArg && strings.Contains(rewritten, "TARGETARCH") {
		rewritten = "ARG TARGETARCH\n" + rewritten
	}
	return []LintFinding{{File: file, Line: line, Severity: SeverityError, Rule: RuleLiteralArch, Instruction: ins,
		Message:    fmt.Sprintf("%q is hard-coded: an arm64 build gets the x86-64 file", lit),
		Suggestion: rewritten,
	}}
}

// replaceArch replaces every literal arch word lit in s with repl.
func replaceArch(s, lit, repl string) string {
	return literalArch.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.Index(strings.ToLower(m), strings.ToLower(lit))
		if i < 0 {
			return m
		}
		return m[:i] + repl + m[i+len(lit):]
	})
}

// lintContext flags node_modules and shared objects copied from the build
// context: they were built for the machine that ran npm or make.
func lintContext(file, ins string, line int, sources []string) []LintFinding {
	for _, s := range sources {
		if strings.Contains(s, "://") {
			continue
		}
		base := path.Base(strings.TrimSuffix(s, "/"))
		if slices.Contains(strings.Split(s, "/"), "node_modules") || strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.") || strings.HasSuffix(base, ".node") {
			return []LintFinding{{File: file, Line: line, Severity: SeverityWarning, Rule: RuleContextBinaries, Instruction: ins,
				Message:    fmt.Sprintf("%s is copied from the build context: native code in it was built for the machine that built it, not the target", s),
				Suggestion: "build it in the image (RUN npm ci, or make) in a stage FROM the target platform, and COPY --from that stage",
			}}
		}
	}
	return nil
}

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// line is the first line of a BuildKit location.
func line(rs []parser.Range) int {
	if len(rs) == 0 {
		return 0
	}
	return rs[0].Start.Line
}
