package advisor

import "math/bits"

// probe judges candidate i: whether it supports the target, and how many
// budgeted (manifest GET) requests that took (0 for an alias of a digest
// already judged, or a tag list that said its platforms).
type probe func(i int) (ok bool, cost int, err error)

// need is how many probes bisection takes at most to close the bracket
// (lo, hi): ⌈log₂(hi−lo)⌉.
func need(lo, hi int) int {
	if hi-lo <= 1 {
		return 0
	}
	return bits.Len(uint(hi - lo - 1))
}

// Budget is the most manifest requests the search spends for n
// candidates: ⌈log₂ n⌉ + 3.
func Budget(n int) int {
	if n <= 1 {
		return 3
	}
	return bits.Len(uint(n-1)) + 3
}

// bracket finds a boundary in (lo, hi]: lo is known not to support the
// target (−1 is the current tag), hi is known to. It gallops up from
// start+1 (+1, +2, +4 …), for the answer is usually near the current tag,
// and bisects once a gallop step would pass the middle of the bracket or
// could leave more than the remaining budget can bisect; so it never
// spends more than budget when budget ≥ need(lo, hi). It returns the
// first supporting index found, whether the boundary is proven (the
// index before it was judged and does not support), and the cost spent.
func bracket(lo, hi, budget int, p probe) (first int, confirmed bool, spent int, err error) {
	start, step, galloping := lo, 1, true
	for hi-lo > 1 {
		rem := budget - spent
		if rem <= 0 {
			return hi, false, spent, nil
		}
		mid := lo + (hi-lo)/2
		at := mid
		if galloping {
			g := start + step
			if g > lo && g <= mid && 1+max(need(g, hi), need(lo, g)) <= rem {
				at = g
			} else {
				galloping = false
			}
		}
		ok, cost, err := p(at)
		spent += cost
		if err != nil {
			return hi, false, spent, err
		}
		if ok {
			hi, galloping = at, false
		} else {
			lo = at
			step *= 2
		}
	}
	return hi, true, spent, nil
}
