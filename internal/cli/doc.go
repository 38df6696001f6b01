// Package cli is archway's command line: one cobra command constructor per
// subcommand, each turning flags into options and calling the packages
// that do the work. Nothing here is global; output goes to the writers
// given to Execute.
package cli
