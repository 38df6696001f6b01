package app

import (
	"context"
	"fmt"

	"github.com/archwaydev/archway/internal/index"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/verify"
)

// CreateIndexOptions configure CreateIndex.
type CreateIndexOptions struct {
	index.Options
	// Verify checks every source's binaries against its platform (archway
	// verify) before anything is written; a mismatch or a source that
	// cannot be told refuses the index.
	Verify bool
	// VerifyOptions configure the verification.
	VerifyOptions verify.Options
}

// CreateIndex assembles and pushes a multi-arch index (index.Create),
// first verifying each source with Verify. A verification that fails is an
// *index.CheckError (a mismatch) or *index.ReadError (could not tell),
// so the exit codes are index create's own.
func CreateIndex(ctx context.Context, c *registry.Client, o CreateIndexOptions) (*index.Result, []verify.Result, error) {
	var verified []verify.Result
	if o.Verify {
		v := verify.New(c, o.VerifyOptions)
		refs := make([]string, len(o.Sources))
		for i, s := range o.Sources {
			refs[i] = s.Ref
		}
		verified = v.Images(ctx, refs, 4)
		var mismatch []string
		for _, r := range verified {
			switch r.Verdict {
			case verify.Verified:
			case verify.Unknown:
				return nil, verified, &index.ReadError{Ref: r.Ref, Err: fmt.Errorf("--verify could not tell whether its binaries match its platform: %s", firstNonEmpty(r.Error, "see archway verify"))}
			default:
				mismatch = append(mismatch, fmt.Sprintf("--verify: %s: its binaries disagree with the platform it claims (%s; archway verify %s shows the findings)", r.Ref, r.Verdict, r.Ref))
			}
		}
		if len(mismatch) > 0 {
			return nil, verified, &index.CheckError{Problems: mismatch}
		}
	}
	res, err := index.Create(ctx, c, o.Options)
	return res, verified, err
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
