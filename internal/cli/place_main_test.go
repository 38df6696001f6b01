package cli

import (
	"context"
	"os"
	"testing"
)

// execEnv, when set to "1", makes the test binary run archway itself
// instead of the tests, so a test can hand os.Args[0] to code that runs
// an executable (Helm's post-renderer).
const execEnv = "ARCHWAY_TEST_EXEC_ARCHWAY"

func TestMain(m *testing.M) {
	if os.Getenv(execEnv) == "1" {
		ctx, stop := WithSignals(context.Background()) // as cmd/archway's main does
		code := Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
