package platform

import (
	"strings"
	"testing"
)

// FuzzParse: Parse never panics; a platform it accepts prints as a string
// that parses back to itself, satisfies itself, and has a known
// architecture; a rejected one is an error that quotes the input (capped).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"linux/arm64", "arm64", "linux/arm/v7", "armhf", "x86_64", "windows/amd64", "linux/arm64/v8", "Linux/AARCH64", " linux/amd64 ", "a/b/c/d", "linux//", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if p != (Platform{}) {
				t.Errorf("Parse(%q) failed but returned %+v", s, p)
			}
			return
		}
		if !knownArch[p.Architecture] {
			t.Errorf("Parse(%q) = %+v: unknown architecture", s, p)
		}
		back, err := Parse(p.String())
		if err != nil || back != p {
			t.Errorf("Parse(%q) = %+v, but its String %q parses to %+v, %v", s, p, p.String(), back, err)
		}
		if Normalize(p) != p {
			t.Errorf("Parse(%q) = %+v is not normalised (%+v)", s, p, Normalize(p))
		}
		if !p.Satisfies(p) {
			t.Errorf("%s does not satisfy itself", p)
		}
		if strings.ContainsAny(p.String(), " \t\n") {
			t.Errorf("Parse(%q) prints as %q", s, p.String())
		}
	})
}
