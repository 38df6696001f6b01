package advisor

import (
	"regexp"
	"strconv"
	"strings"
)

// Scheme is a tag read as a version in a tag scheme: "v1.2.3-rc1-alpine3.19-amd64"
// is prefix "v", release 1.2.3, pre-release rc1, distro alpine 3.19 and
// arch amd64.
type Scheme struct {
	// Tag is the tag as written.
	Tag string
	// Prefix is what precedes the release: "", "v", "alpine-".
	Prefix string
	// Release is the numeric parts, 1 to 4.
	Release []int
	// Pre is the pre-release ("rc1", "beta.2", "b1"), "" for a release.
	Pre string
	// Suffix is the other suffix tokens, in order ("slim", "distroless").
	Suffix []string
	// Arch is the arch slot's token as written ("amd64", "aarch64"), or "".
	Arch string
	// archAt is where the arch token sits among the suffix tokens.
	archAt int
	// Distro is the distro family with its spelling ("alpine", "debian-",
	// "debian:codename"), or "" when there is none.
	Distro string
	// DistroVersion orders versions of one distro family.
	DistroVersion []int
	// distroText is the distro token(s) as written.
	distroText string
	// Build is the build counter ("-r20", "-1"), -1 when there is none.
	Build int
}

// archTokens maps the arch tokens of tags to GOARCH[/variant].
var archTokens = map[string]string{
	"amd64": "amd64", "x86_64": "amd64", "x64": "amd64", "x86-64": "amd64",
	"arm64": "arm64", "aarch64": "arm64", "arm64v8": "arm64",
	"armv7": "arm/v7", "armhf": "arm/v7", "arm32v7": "arm/v7", "armv6": "arm/v6", "arm32v6": "arm/v6",
	"i386": "386", "386": "386", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
}

// ArchTokens returns the tag tokens that name arch (a GOARCH[/variant]).
func ArchTokens(arch string) []string {
	var out []string
	for _, t := range []string{"arm64", "aarch64", "arm64v8", "amd64", "x86_64", "x64", "armv7", "armhf", "arm32v7"} {
		if archTokens[t] == arch {
			out = append(out, t)
		}
	}
	return out
}

// codenames are distro releases named by word.
var codenames = map[string]struct {
	family  string
	version []int
}{
	"stretch": {"debian", []int{9}}, "buster": {"debian", []int{10}}, "bullseye": {"debian", []int{11}},
	"bookworm": {"debian", []int{12}}, "trixie": {"debian", []int{13}},
	"bionic": {"ubuntu", []int{18, 4}}, "focal": {"ubuntu", []int{20, 4}}, "jammy": {"ubuntu", []int{22, 4}}, "noble": {"ubuntu", []int{24, 4}},
}

var (
	floating   = map[string]bool{"latest": true, "stable": true, "edge": true, "main": true, "master": true, "nightly": true, "dev": true, "develop": true, "canary": true, "unstable": true, "mainline": true, "testing": true}
	hashRe     = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
	digestTag  = regexp.MustCompile(`^sha256-[0-9a-f]{64}`)
	dateRe     = regexp.MustCompile(`^(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(\d{4,6})?$|^(19|20)\d\d-\d\d-\d\d`)
	headRe     = regexp.MustCompile(`^(v|[a-z]+(?:[._][a-z]+)*-)?(\d+(?:\.\d+){0,3})(.*)$`)
	gluedPreRe = regexp.MustCompile(`^(a|b|rc|alpha|beta|pre|dev)\.?\d*$`)
	preRe      = regexp.MustCompile(`^(alpha|beta|rc|pre|preview|dev|a|b)(\.?\d+)?$`)
	distroRe   = regexp.MustCompile(`^(alpine|debian|ubuntu|ubi|centos|rhel|fedora|amazonlinux|al|rockylinux|almalinux|windowsservercore|nanoserver|bullseye|bookworm)(\d+(?:\.\d+)*)$`)
	numRe      = regexp.MustCompile(`^\d+(?:\.\d+)*$`)
	buildRe    = regexp.MustCompile(`^r?\d+$`)
)

// Parse reads tag as a version in a scheme. ok is false for tags that are
// not versions: floating tags (latest, stable, edge, main, nightly …),
// dates, commit hashes, sha256-… signature and attestation tags, and tags
// without a 1–4 part numeric release.
func Parse(tag string) (Scheme, bool) {
	low := strings.ToLower(tag)
	if floating[low] || digestTag.MatchString(low) || dateRe.MatchString(low) ||
		(hashRe.MatchString(low) && strings.ContainsAny(low, "abcdef")) {
		return Scheme{}, false
	}
	m := headRe.FindStringSubmatch(low)
	if m == nil {
		return Scheme{}, false
	}
	s := Scheme{Tag: tag, Prefix: m[1], Build: -1, archAt: -1}
	for _, p := range strings.Split(m[2], ".") {
		n, err := strconv.Atoi(p)
		if err != nil || len(p) > 9 {
			return Scheme{}, false
		}
		s.Release = append(s.Release, n)
	}
	if len(s.Release) == 1 && s.Release[0] >= 1900 && len(m[2]) >= 8 {
		return Scheme{}, false // a date or a build number, not a release
	}
	rest := m[3]
	if rest != "" && rest[0] != '-' {
		glued, after, _ := strings.Cut(rest, "-")
		if !gluedPreRe.MatchString(glued) {
			return Scheme{}, false // e.g. 1.2.3foo
		}
		s.Pre, rest = glued, after
	} else {
		rest = strings.TrimPrefix(rest, "-")
	}
	var toks []string
	if rest != "" {
		toks = strings.Split(rest, "-")
	}
	if s.Pre == "" && len(toks) > 0 && preRe.MatchString(toks[0]) {
		s.Pre, toks = toks[0], toks[1:]
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "":
			return Scheme{}, false
		case archTokens[t] != "" && s.Arch == "":
			s.Arch, s.archAt = t, len(s.Suffix)
		case t == "linux" && i+1 < len(toks) && archTokens[toks[i+1]] != "" && s.Arch == "":
			s.Arch, s.archAt = t+"-"+toks[i+1], len(s.Suffix)
			i++
		case s.Distro == "" && distroRe.MatchString(t):
			d := distroRe.FindStringSubmatch(t)
			s.Distro, s.DistroVersion, s.distroText = d[1], nums(d[2]), t
		case s.Distro == "" && codenames[t].family != "":
			c := codenames[t]
			s.Distro, s.DistroVersion, s.distroText = c.family+":codename", c.version, t
		case s.Distro == "" && (t == "debian" || t == "ubuntu" || t == "alpine" || t == "ubi") && i+1 < len(toks) && numRe.MatchString(toks[i+1]):
			s.Distro, s.DistroVersion, s.distroText = t+"-", nums(toks[i+1]), t+"-"+toks[i+1]
			i++
		case i == len(toks)-1 && buildRe.MatchString(t) && len(toks) > 0:
			n, err := strconv.Atoi(strings.TrimPrefix(t, "r"))
			if err != nil {
				return Scheme{}, false
			}
			s.Build = n
			if strings.HasPrefix(t, "r") {
				s.Suffix = append(s.Suffix, "r#")
			} else {
				s.Suffix = append(s.Suffix, "#")
			}
		default:
			s.Suffix = append(s.Suffix, t)
		}
	}
	return s, true
}

func nums(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ".") {
		n, _ := strconv.Atoi(p)
		out = append(out, n)
	}
	return out
}

// Family is what two tags of one scheme share: the prefix, the number of
// release parts, the suffix tokens and the distro family (the arch slot,
// the distro's version and the build counter left out).
func (s Scheme) Family() string {
	return s.Prefix + "|" + strconv.Itoa(len(s.Release)) + "|" + strings.Join(s.Suffix, "-") + "|" + s.Distro
}

// Compare orders two versions of one family: release part by part, a
// pre-release before its release, then the distro version, then the
// build counter. It returns -1, 0 or +1.
func Compare(a, b Scheme) int {
	if c := compareInts(a.Release, b.Release); c != 0 {
		return c
	}
	if c := comparePre(a.Pre, b.Pre); c != 0 {
		return c
	}
	if c := compareInts(a.DistroVersion, b.DistroVersion); c != 0 {
		return c
	}
	return cmpInt(a.Build, b.Build)
}

func compareInts(a, b []int) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := cmpInt(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmpInt(len(a), len(b))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var preOrder = map[string]int{"dev": 0, "a": 1, "alpha": 1, "b": 2, "beta": 2, "pre": 3, "preview": 3, "rc": 4}

// comparePre orders pre-releases: none is the release, above all; then by
// kind (alpha < beta < rc) and number.
func comparePre(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	ka, na := splitPre(a)
	kb, nb := splitPre(b)
	if c := cmpInt(preOrder[ka], preOrder[kb]); c != 0 {
		return c
	}
	return cmpInt(na, nb)
}

func splitPre(p string) (string, int) {
	i := strings.IndexAny(p, "0123456789.")
	if i < 0 {
		return p, 0
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(p[i:], "."))
	return p[:i], n
}

// WithArch returns the tag with its arch slot spelled token ("" drops
// it), keeping every other part as written.
func (s Scheme) WithArch(token string) string {
	tag := strings.ToLower(s.Tag)
	if s.Arch == "" {
		return s.Tag
	}
	for _, form := range []string{"-" + s.Arch + "-", "-" + s.Arch} {
		i := strings.LastIndex(tag, form)
		if i < 0 || (form == "-"+s.Arch && i+len(form) != len(tag)) {
			continue
		}
		repl := "-"
		if token != "" {
			repl = "-" + token + strings.TrimPrefix(form, "-"+s.Arch)
		} else if form == "-"+s.Arch {
			repl = ""
		}
		return s.Tag[:i] + repl + s.Tag[i+len(form):]
	}
	return s.Tag
}
