package report

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/assess"
)

// TestJSONStreamedAsWhole: the json format, streamed list by list, is
// byte for byte what encoding/json writes for the whole report (the
// fixture, an empty report, and one with the fixFirst list after the
// streamed ones, whose items have a workloads list of their own).
func TestJSONStreamedAsWhole(t *testing.T) {
	advice := []Option{WithAdvice(map[string]string{"a:1": "move to a:2"})}
	for name, c := range map[string]struct {
		r    assess.Report
		opts []Option
	}{
		"fixture":   {fixture(), fixtureOptions},
		"empty":     {assess.Assess(nil, nil, fixture().Target), nil},
		"fix first": {fixFirstReport(), advice},
	} {
		t.Run(name, func(t *testing.T) {
			var o options
			for _, opt := range c.opts {
				opt(&o)
			}
			var want bytes.Buffer
			if err := jsonEncoder(&want, "").Encode(toJSON(c.r, o)); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want.String(), string(render(t, JSON, c.r, c.opts...))); d != "" {
				t.Errorf("streamed json differs from encoding/json's (-whole +streamed):\n%s", d)
			}
		})
	}
}
