package advisor

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		tag                       string
		ok                        bool
		prefix, pre, arch, distro string
		release, distroVersion    []int
		build                     int
	}{
		{tag: "1.27", ok: true, release: []int{1, 27}, build: -1},
		{tag: "v1.2.3", ok: true, prefix: "v", release: []int{1, 2, 3}, build: -1},
		{tag: "alpine-2.3.0", ok: true, prefix: "alpine-", release: []int{2, 3, 0}, build: -1},
		{tag: "1.2.3.4", ok: true, release: []int{1, 2, 3, 4}, build: -1},
		{tag: "1.2.3-rc1", ok: true, pre: "rc1", release: []int{1, 2, 3}, build: -1},
		{tag: "1.2.3-beta.2", ok: true, pre: "beta.2", release: []int{1, 2, 3}, build: -1},
		{tag: "3.9.0b1", ok: true, pre: "b1", release: []int{3, 9, 0}, build: -1},
		{tag: "8.0.300-alpine3.18-amd64", ok: true, arch: "amd64", distro: "alpine", release: []int{8, 0, 300}, distroVersion: []int{3, 18}, build: -1},
		{tag: "1.0-debian-12", ok: true, distro: "debian-", release: []int{1, 0}, distroVersion: []int{12}, build: -1},
		{tag: "1.0-bookworm", ok: true, distro: "debian:codename", release: []int{1, 0}, distroVersion: []int{12}, build: -1},
		{tag: "2.0-ubi9", ok: true, distro: "ubi", release: []int{2, 0}, distroVersion: []int{9}, build: -1},
		{tag: "11.2.0-debian-11-r20", ok: true, distro: "debian-", release: []int{11, 2, 0}, distroVersion: []int{11}, build: 20},
		{tag: "1.2.3-1", ok: true, release: []int{1, 2, 3}, build: 1},
		{tag: "1.0-aarch64", ok: true, arch: "aarch64", release: []int{1, 0}, build: -1},
		{tag: "1.0-linux-arm64", ok: true, arch: "linux-arm64", release: []int{1, 0}, build: -1},
		{tag: "1.0-arm64v8", ok: true, arch: "arm64v8", release: []int{1, 0}, build: -1},
		{tag: "1.0-x86_64", ok: true, arch: "x86_64", release: []int{1, 0}, build: -1},
		{tag: "1.0-armhf", ok: true, arch: "armhf", release: []int{1, 0}, build: -1},
		{tag: "latest"}, {tag: "stable"}, {tag: "edge"}, {tag: "main"}, {tag: "nightly"},
		{tag: "20240101"}, {tag: "2024-05-01"}, {tag: "3f2a9c1"}, {tag: "3f2a9c1e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"},
		{tag: "sha256-" + "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd.sig"},
		{tag: "1.2.3.4.5"}, {tag: "1.2foo"}, {tag: "slim"},
	} {
		s, ok := Parse(tc.tag)
		if ok != tc.ok {
			t.Errorf("Parse(%q) ok = %v, want %v", tc.tag, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if s.Prefix != tc.prefix || s.Pre != tc.pre || s.Arch != tc.arch || s.Distro != tc.distro ||
			!slices.Equal(s.Release, tc.release) || !slices.Equal(s.DistroVersion, tc.distroVersion) || s.Build != tc.build {
			t.Errorf("Parse(%q) = %+v", tc.tag, s)
		}
	}
}

func TestCompareAndCandidates(t *testing.T) {
	tags := []string{"1.10", "1.9", "1.2", "1.11-rc1", "1.11", "1.2-alpine", "1.3-alpine", "1.3-amd64", "1.3.1", "v1.4", "latest", "1.1"}
	cur, _ := Parse("1.2")
	var got []string
	for _, c := range Candidates(cur, tags) {
		got = append(got, c.Tag)
	}
	if want := []string{"1.9", "1.10", "1.11"}; !slices.Equal(got, want) {
		t.Errorf("candidates of 1.2 = %v, want %v", got, want)
	}
	cur, _ = Parse("1.2-amd64")
	got = nil
	for _, c := range Candidates(cur, append(tags, "1.3-arm64", "1.4-amd64")) {
		got = append(got, c.Tag)
	}
	if want := []string{"1.9", "1.10", "1.11"}; !slices.Equal(got, want) {
		t.Errorf("candidates of 1.2-amd64 = %v, want the arch-free %v", got, want)
	}
	for _, pair := range [][2]string{{"1.0-rc1", "1.0-rc2"}, {"1.0-beta.2", "1.0-rc1"}, {"1.0-rc2", "1.0"}, {"1.0-r9", "1.0-r20"}, {"1.0-alpine3.9", "1.0-alpine3.18"}} {
		a, _ := Parse(pair[0])
		b, _ := Parse(pair[1])
		if Compare(a, b) >= 0 {
			t.Errorf("%s !< %s", pair[0], pair[1])
		}
	}
}

func TestWithArch(t *testing.T) {
	for _, tc := range [][3]string{
		{"1.0-amd64", "", "1.0"}, {"1.0-amd64", "arm64", "1.0-arm64"},
		{"8.0-alpine3.18-amd64", "arm64v8", "8.0-alpine3.18-arm64v8"}, {"1.0-amd64-slim", "arm64", "1.0-arm64-slim"}, {"1.0-amd64-slim", "", "1.0-slim"},
	} {
		s, _ := Parse(tc[0])
		if got := s.WithArch(tc[1]); got != tc[2] {
			t.Errorf("%s.WithArch(%q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

// TestBracketBudget: for every number of candidates up to 200 and every
// boundary, the search after the newest probe finds the first supporting
// candidate, confirmed, within Budget(n)−1 probes.
func TestBracketBudget(t *testing.T) {
	for n := 1; n <= 200; n++ {
		for first := 0; first < n; first++ {
			probes := 0
			p := func(i int) (bool, int, error) {
				probes++
				if i < 0 || i >= n-1 {
					t.Fatalf("n=%d: probe %d out of (−1, n−1)", n, i)
				}
				return i >= first, 1, nil
			}
			got, confirmed, spent, err := bracket(-1, n-1, Budget(n)-1, p)
			if err != nil || got != first || !confirmed || spent != probes {
				t.Fatalf("n=%d first=%d: got %d confirmed %v spent %d/%d err %v", n, first, got, confirmed, spent, probes, err)
			}
			if probes > Budget(n)-1 {
				t.Fatalf("n=%d first=%d: %d probes, over budget %d−1", n, first, probes, Budget(n))
			}
		}
	}
	// Galloping pays off near the current tag: one step up costs 1 probe.
	probes := 0
	bracket(-1, 999, Budget(1000)-1, func(i int) (bool, int, error) { probes++; return i >= 0, 1, nil })
	if probes != 1 {
		t.Errorf("answer right above the current tag took %d probes, want 1", probes)
	}
}
