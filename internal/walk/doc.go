// Package walk is the one directory walk of every command (scan's
// directory and Kubernetes readers, place's file search), so that they all
// treat symbolic links by one rule:
//
//   - a link to a file or directory inside the given directories (the
//     roots) is followed, unless the walk reaches its target under its own
//     name anyway: then the target is read there, once;
//   - a link pointing outside the roots, and a dangling or unresolvable
//     link (a → b → a), are not followed, and are reported as a
//     *LinkError, never dropped in silence;
//   - each real directory is walked once, and a link to a directory being
//     walked (a loop) is not followed, so every walk ends.
//
// The rule assumes what every reader does: fn skips the directories whose
// name starts with a dot (fs.SkipDir), so a link into one is followed, and
// a link to anything else inside the roots is left to the walk.
package walk
