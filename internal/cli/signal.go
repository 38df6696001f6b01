package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// interruption is the cause of a context cancelled by a signal.
type interruption struct{ sig os.Signal }

func (i interruption) Error() string { return "interrupted by " + i.sig.String() }

// code is the shell's exit status for the signal: 128 + its number (130
// for SIGINT, 143 for SIGTERM).
func (i interruption) code() int {
	if s, ok := i.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// WithSignals returns a context cancelled on the first SIGINT or SIGTERM,
// with the signal as its cause; a second signal kills the process as
// usual. stop releases the signal handler.
func WithSignals(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs) // the next one takes the default action
			cancel(interruption{s})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// interrupted returns the interruption that cancelled ctx, or nil.
// Commands check it right after their one call, so an interrupted run
// prints one line (Execute's) instead of a report of cancelled lookups.
func interrupted(ctx context.Context) error {
	var i interruption
	if errors.As(context.Cause(ctx), &i) {
		return i
	}
	return nil
}

// interruptedCode says what Execute prints and returns for an interrupted
// run; ok is false when ctx was not interrupted.
func interruptedCode(ctx context.Context) (msg string, code int, ok bool) {
	var i interruption
	if !errors.As(context.Cause(ctx), &i) {
		return "", 0, false
	}
	return fmt.Sprintf("archway: %s; stopped", i), i.code(), true
}
