package compose

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// interpolate substitutes the defaults written in s, as Compose would with
// every variable unset. resolved is false when s uses a variable without a
// default; s is then returned unchanged. An error means the template is
// malformed (an unterminated "${", a bad name).
func interpolate(s string) (out string, resolved bool, err error) {
	out, resolved, err = expand(s, 0)
	if err != nil {
		return "", false, fmt.Errorf("invalid interpolation %q: %w", excerpt(s), err)
	}
	if !resolved {
		return s, false, nil
	}
	return out, true, nil
}

// maxNesting bounds how deeply "${A:-${B:-…}}" defaults nest. Each level
// scans the rest of its text once, so the work is at most maxNesting times
// the length of the value: linear, where unbounded nesting was quadratic.
// Real files nest two or three levels.
const maxNesting = 32

func expand(s string, depth int) (string, bool, error) {
	if depth > maxNesting {
		return "", false, fmt.Errorf("defaults nested more than %d deep", maxNesting)
	}
	var b strings.Builder
	resolved := true
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i += 2
		case next == '{':
			end := closingBrace(s, i+2)
			if end < 0 {
				return "", false, errors.New("unterminated ${")
			}
			v, ok, err := braced(s[i+2:end], depth)
			if err != nil {
				return "", false, err
			}
			resolved = resolved && ok
			b.WriteString(v)
			i = end + 1
		case isNameStart(next):
			j := i + 1
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			resolved = false // $VAR has no default
			i = j
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), resolved, nil
}

// braced evaluates the inside of ${...} with the variable unset.
func braced(in string, depth int) (string, bool, error) {
	j := 0
	for j < len(in) && isNameChar(in[j]) {
		j++
	}
	if j == 0 || !isNameStart(in[0]) {
		return "", false, fmt.Errorf("bad variable name in ${%s}", excerpt(in))
	}
	op := in[j:]
	switch {
	case op == "":
		return "", false, nil
	case strings.HasPrefix(op, ":-"):
		return expand(op[2:], depth+1)
	case strings.HasPrefix(op, "-"):
		return expand(op[1:], depth+1)
	case strings.HasPrefix(op, ":+"), strings.HasPrefix(op, "+"):
		return "", true, nil // unset: the alternative is not used
	case strings.HasPrefix(op, ":?"), strings.HasPrefix(op, "?"):
		return "", false, nil // required and unset
	}
	return "", false, fmt.Errorf("unsupported operator in ${%s}", excerpt(in))
}

// excerpt shortens a template quoted in an error to about 60 bytes.
func excerpt(s string) string {
	n := 60
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// closingBrace returns the index of the "}" that closes a "${" whose body
// starts at from, allowing nested "${...}"; -1 if there is none.
func closingBrace(s string, from int) int {
	depth := 1
	for i := from; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case s[i] == '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func isNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isNameChar(c byte) bool { return isNameStart(c) || ('0' <= c && c <= '9') }
