package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/pflag"

	"github.com/archwaydev/archway/internal/registry"
)

// registryFlags are the registry client flags every command that looks
// images up shares (check, scan, place).
type registryFlags struct {
	jobs          int
	cacheTTL      time.Duration
	noCache       bool
	insecure      []string
	username      string
	passwordStdin bool
	registryAuth  string
	timeout       time.Duration
}

// addRegistryFlags registers the registry flags on fs, storing into r.
// firstWhat names what picks --username's registry when --registry-auth is
// not given, e.g. "the first image"; empty means --registry-auth is
// required with --username.
func addRegistryFlags(fs *pflag.FlagSet, r *registryFlags, firstWhat string) {
	userHelp := "user name for the registry of " + firstWhat + " (or --registry-auth)"
	authHelp := "registry `HOST` that --username applies to (default: " + firstWhat + "'s)"
	if firstWhat == "" {
		userHelp = "user name for the registry --registry-auth names"
		authHelp = "registry `HOST` that --username applies to"
	}
	fs.IntVar(&r.jobs, "jobs", registry.DefaultJobs, "lookups to run at once")
	fs.DurationVar(&r.cacheTTL, "cache-ttl", registry.DefaultTagTTL, "how long a cached tag → digest answer is trusted")
	fs.BoolVar(&r.noCache, "no-cache", false, "do not read or write the on-disk cache")
	fs.StringArrayVar(&r.insecure, "insecure-registry", nil, "use plain HTTP for this registry `HOST[:PORT]`; repeatable")
	fs.StringVar(&r.username, "username", "", userHelp)
	fs.BoolVar(&r.passwordStdin, "password-stdin", false, "read the password or token for --username from stdin")
	fs.StringVar(&r.registryAuth, "registry-auth", "", authHelp)
	fs.DurationVar(&r.timeout, "timeout", 10*time.Minute, "give up on lookups still running after this long (0: no limit)")
}

// validate checks the registry flags on their own.
func (r registryFlags) validate() error {
	switch {
	case r.jobs < 1:
		return fmt.Errorf("--jobs must be at least 1, got %d", r.jobs)
	case r.cacheTTL < 0:
		return fmt.Errorf("--cache-ttl must not be negative, got %s", r.cacheTTL)
	case r.timeout < 0:
		return fmt.Errorf("--timeout must not be negative, got %s", r.timeout)
	case r.username != "" && !r.passwordStdin:
		return errors.New("--username needs --password-stdin (passwords on the command line leak into shell history)")
	case r.passwordStdin && r.username == "":
		return errors.New("--password-stdin needs --username")
	case r.registryAuth != "" && r.username == "":
		return errors.New("--registry-auth needs --username and --password-stdin")
	}
	return nil
}

// options turns the flags into registry client options, reading the
// password from stdin when asked. firstRef picks the registry that
// --username applies to when --registry-auth is not given.
func (r registryFlags) options(firstRef string, stdin io.Reader) ([]registry.Option, error) {
	opts := []registry.Option{registry.WithJobs(r.jobs), registry.WithTagTTL(r.cacheTTL)}
	if r.noCache {
		opts = append(opts, registry.WithoutCache())
	}
	if len(r.insecure) > 0 {
		opts = append(opts, registry.WithInsecure(r.insecure...))
	}
	if r.username == "" {
		return opts, nil
	}
	host := r.registryAuth
	if host == "" {
		if firstRef == "" {
			return nil, errors.New("--username: no image to take the registry from; give --registry-auth HOST")
		}
		ref, err := name.ParseReference(firstRef)
		if err != nil {
			return nil, fmt.Errorf("bad image reference %q: %w", firstRef, err)
		}
		host = ref.Context().RegistryStr()
	}
	pass, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("--password-stdin: %w", err)
	}
	password := strings.TrimRight(string(pass), "\r\n")
	if password == "" {
		return nil, errors.New("--password-stdin: stdin was empty")
	}
	return append(opts, registry.WithBasicAuth(host, r.username, password)), nil
}

// client builds the registry client the flags describe (see options).
func (r registryFlags) client(firstRef string, stdin io.Reader) (*registry.Client, error) {
	opts, err := r.options(firstRef, stdin)
	if err != nil {
		return nil, usageError(err)
	}
	c, err := registry.New(opts...)
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	return c, nil
}

// withTimeout bounds ctx by --timeout (0: no limit).
func (r registryFlags) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.timeout > 0 {
		return context.WithTimeout(ctx, r.timeout)
	}
	return context.WithCancel(ctx)
}
