package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/archwaydev/archway/internal/report"
)

// Exit codes shared by every command. Commands that give a verdict
// (check, scan) document their own codes 0-3 in their help.
const (
	ExitOK          = 0 // success; every image or workload supports the target
	ExitUnsupported = 1 // at least one image or workload does not support the target
	ExitUnknown     = 2 // at least one could not be told (lookup failed)
	ExitUsage       = 3 // bad flags or arguments
	ExitError       = 4 // the command itself failed (I/O, internal error)
)

// exitError carries an exit code out of a command's RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err (which may be nil, for a silent exit) with an exit code.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// usageError marks err as a usage error (exit code ExitUsage).
func usageError(err error) error { return withCode(ExitUsage, err) }

// Execute runs archway with args and returns the process exit code.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if msg, code, ok := interruptedCode(ctx); ok {
		fmt.Fprintln(stderr, msg)
		return code
	}
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "archway:", ee.err)
		}
		return ee.code
	}
	// Errors cobra raises itself (unknown flag or command) are usage errors.
	fmt.Fprintln(stderr, "archway:", err)
	if isFlagError(err) {
		fmt.Fprintln(stderr, "Run 'archway --help' for usage.")
		return ExitUsage
	}
	return ExitError
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "archway",
		Short: "Take container workloads to arm64 (AWS Graviton and any arm64 host)",
		Long: `archway tells which platforms container images really support, finds every
image your workloads use and says which can run on arm64, and writes or injects
the kubernetes.io/arch placement that keeps every pod on a node that can run it.

Start with 'archway demo': it runs on built-in example images, no network needed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version(),
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: displayName(argv0())},
	}
	root.SetVersionTemplate("archway {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(
		newVersionCmd(),
		newCheckCmd(),
		newDemoCmd(),
		newScanCmd(),
		newWebhookCmd(),
		newPlaceCmd(),
		newIndexCmd(),
		newNodesCmd(),
		newVerifyCmd(),
	)
	for _, c := range root.Commands() {
		switch c.Name() {
		case "scan":
			registerCompletions(c, report.Formats...)
		case "check":
			registerCompletions(c, report.Table, report.JSON)
		default:
			registerCompletions(c)
		}
	}
	return root
}

// isFlagError reports whether err is one of cobra's own argument errors.
func isFlagError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires ", "invalid argument"} {
		if len(msg) >= len(prefix) && msg[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}
