package registry

import (
	"log/slog"
	"slices"
	"sync"
)

// notes are the messages a Client has for its user, each said once:
// a used-up quota, a failing mirror, Docker Hub's anonymous limits.
type notes struct {
	log *slog.Logger

	mu   sync.Mutex
	seen map[string]bool
	list []string
}

// add records msg under key unless a note with that key was given; it is
// logged at warning level as it is added.
func (n *notes) add(key, msg string) {
	n.mu.Lock()
	if n.seen[key] {
		n.mu.Unlock()
		return
	}
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	n.seen[key] = true
	n.list = append(n.list, msg)
	n.mu.Unlock()
	n.log.Warn(msg)
}

// Notes returns the messages the Client has for its user so far, in the
// order they arose, each once: a registry's pull quota used up (with the
// limit, the window and how to raise it), a mirror that failed and the
// origin used instead, Docker Hub's anonymous quota, configuration that
// was ignored. Commands print them after their lookups.
func (c *Client) Notes() []string {
	c.notes.mu.Lock()
	defer c.notes.mu.Unlock()
	return slices.Clone(c.notes.list)
}
