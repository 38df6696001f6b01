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

	jobsPerRegistry int
	pullReserve     int
	mirrors         []string // ORIGIN=MIRROR
	daemonConfig    string   // Docker's daemon.json
	containerdHosts string   // containerd's certs.d directory
}

// Where Docker and containerd keep their mirror configuration.
const (
	defaultDockerDaemonConfig = "/etc/docker/daemon.json"
	defaultContainerdHostsDir = "/etc/containerd/certs.d"
)

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
	fs.IntVar(&r.jobsPerRegistry, "jobs-per-registry", registry.DefaultJobsPerRegistry, "requests in flight to one registry at most")
	fs.IntVar(&r.pullReserve, "pull-reserve", 0, "pulls of a metered registry's quota (ratelimit-remaining) to leave unspent")
	fs.StringArrayVar(&r.mirrors, "registry-mirror", nil, "`ORIGIN=MIRROR`: ask MIRROR first for ORIGIN's images, verified by digest (docker.io names Docker Hub; MIRROR is host[:port] or an http(s) URL); repeatable")
	fs.StringVar(&r.daemonConfig, "docker-daemon-config", defaultDockerDaemonConfig, "Docker's daemon.json `FILE`, whose registry-mirrors mirror Docker Hub when it exists (\"\": none)")
	fs.StringVar(&r.containerdHosts, "containerd-hosts-dir", defaultContainerdHostsDir, "containerd's `DIR` of <registry>/hosts.toml mirror configuration, used when it exists (\"\": none)")
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
	case r.jobsPerRegistry < 1:
		return fmt.Errorf("--jobs-per-registry must be at least 1, got %d", r.jobsPerRegistry)
	case r.pullReserve < 0:
		return fmt.Errorf("--pull-reserve must not be negative, got %d", r.pullReserve)
	}
	for _, m := range r.mirrors {
		origin, mirror, ok := strings.Cut(m, "=")
		if !ok || origin == "" || mirror == "" {
			return fmt.Errorf("--registry-mirror %q: want ORIGIN=MIRROR, e.g. docker.io=mirror.gcr.io", m)
		}
		if _, err := registry.New(registry.WithoutCache(), registry.WithMirror(origin, mirror)); err != nil {
			return fmt.Errorf("--registry-mirror %q: %w", m, err)
		}
	}
	return nil
}

// options turns the flags into registry client options, reading the
// password from stdin when asked. firstRef picks the registry that
// --username applies to when --registry-auth is not given.
func (r registryFlags) options(firstRef string, stdin io.Reader) ([]registry.Option, error) {
	opts := []registry.Option{registry.WithJobs(r.jobs), registry.WithTagTTL(r.cacheTTL),
		registry.WithJobsPerRegistry(r.jobsPerRegistry), registry.WithPullReserve(r.pullReserve)}
	for _, m := range r.mirrors {
		origin, mirror, _ := strings.Cut(m, "=")
		opts = append(opts, registry.WithMirror(origin, mirror))
	}
	if r.daemonConfig != "" {
		opts = append(opts, registry.WithDockerDaemonConfig(r.daemonConfig))
	}
	if r.containerdHosts != "" {
		opts = append(opts, registry.WithContainerdHostsDir(r.containerdHosts))
	}
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

// writeNotes prints the registry client's notes (a used-up quota, a
// failing mirror, Docker Hub's anonymous quota) to w, one a line.
func writeNotes(w io.Writer, notes []string) {
	for _, n := range notes {
		fmt.Fprintln(w, "note:", n)
	}
}
