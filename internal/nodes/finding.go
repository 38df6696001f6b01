package nodes

import (
	"cmp"
	"slices"
)

// Severity grades a finding.
type Severity string

// The severities, worst first. Unknown means a fact could not be told (an
// instance family missing from the data, an image whose lookup failed).
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityUnknown Severity = "unknown"
	SeverityInfo    Severity = "info"
)

func (s Severity) rank() int {
	return slices.Index([]Severity{SeverityError, SeverityWarning, SeverityUnknown, SeverityInfo}, s)
}

// Finding is one problem with a group, or with a workload on the groups.
type Finding struct {
	// Rule is the check's id, e.g. "taint-tag-format".
	Rule string `json:"rule"`
	// Severity grades the finding.
	Severity Severity `json:"severity"`
	// Group is the group the finding is about ("" for a workload that fits
	// no group).
	Group string `json:"group"`
	// Workload is the workload the finding is about, when there is one.
	Workload string `json:"workload,omitempty"`
	// Message says what is wrong and what it causes.
	Message string `json:"message"`
	// Evidence are the facts the finding rests on.
	Evidence []string `json:"evidence,omitempty"`
	// Fix says what to change.
	Fix string `json:"fix"`
}

// Sort orders findings by severity, then group, workload and rule.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Severity.rank(), b.Severity.rank()),
			cmp.Compare(a.Group, b.Group),
			cmp.Compare(a.Workload, b.Workload),
			cmp.Compare(a.Rule, b.Rule),
		)
	})
}

// Has reports whether a finding of severity s is among fs.
func Has(fs []Finding, s Severity) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == s })
}
