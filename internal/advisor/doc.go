// Package advisor answers "which tag of this image, in its own tag
// scheme, is the nearest that runs on the target platform?".
//
// It reads tags as versions in a scheme (Parse: prefix, release,
// pre-release, suffix tokens, an arch slot, a distro with its version, a
// build counter; floating tags, dates, hashes and signature tags are not
// versions), picks the candidates of the current tag's scheme
// (Candidates), and searches them without trusting that support is
// monotonic: the newest first, then a gallop up from the current tag and
// a bisection, within Budget manifest lookups, the boundary confirmed.
// Support is judged as check judges it (assess.JudgeImage).
//
// The embedded ecosystem data (ecosystem.yaml: every row of the seed's
// "Ecosystem support" table, and repositories that moved or merged)
// starts the search at a project's first arm64 version; every suggestion
// from it is checked at the registry before it is made.
package advisor
