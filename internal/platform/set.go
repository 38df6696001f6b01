package platform

import (
	"slices"
	"strings"
)

// Set is an ordered set of distinct platforms. The zero value is empty and
// ready to use. Sets are values: methods that change a set return a new one.
type Set struct {
	items []Platform
}

// NewSet returns the set of the given platforms, normalised and deduplicated.
func NewSet(ps ...Platform) Set {
	var s Set
	for _, p := range ps {
		s = s.Add(p)
	}
	return s
}

// Add returns s with p added (normalised); unknown/unknown entries are not
// platforms and are ignored.
func (s Set) Add(p Platform) Set {
	p = Normalize(p)
	if p.IsUnknown() || s.Contains(p) {
		return s
	}
	items := append(slices.Clip(s.items), p)
	slices.SortFunc(items, compare)
	return Set{items: items}
}

// Contains reports whether p (normalised, OSVersion ignored) is in s.
func (s Set) Contains(p Platform) bool {
	p = Normalize(p)
	return slices.ContainsFunc(s.items, func(q Platform) bool {
		return q.OS == p.OS && q.Architecture == p.Architecture && q.Variant == p.Variant
	})
}

// Supports reports whether any platform in s satisfies target.
func (s Set) Supports(target Platform) bool {
	return slices.ContainsFunc(s.items, func(p Platform) bool { return p.Satisfies(target) })
}

// Len is the number of platforms in s.
func (s Set) Len() int { return len(s.items) }

// List returns the platforms in s, sorted by OS, architecture, variant.
func (s Set) List() []Platform { return slices.Clone(s.items) }

// Architectures returns the distinct architectures of s's linux platforms,
// sorted: the values a kubernetes.io/arch node label can take.
func (s Set) Architectures() []string {
	var out []string
	for _, p := range s.items {
		if p.OS == "linux" && !slices.Contains(out, p.Architecture) {
			out = append(out, p.Architecture)
		}
	}
	slices.Sort(out)
	return out
}

// String formats s as a comma-separated list.
func (s Set) String() string {
	parts := make([]string, len(s.items))
	for i, p := range s.items {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func compare(a, b Platform) int {
	return strings.Compare(a.OS+"/"+a.Architecture+"/"+a.Variant+"/"+a.OSVersion,
		b.OS+"/"+b.Architecture+"/"+b.Variant+"/"+b.OSVersion)
}
