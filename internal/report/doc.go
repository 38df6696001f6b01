// Package report renders an assess.Report for people and machines, and
// decides the exit code a verdict command returns.
//
// Formats (Render, ParseFormat):
//   - table: plain text for a terminal, grouped by verdict, fits in 100
//     columns, colour only with WithColor.
//   - json: the schema documented on JSONReport, versioned by its
//     schemaVersion field.
//   - markdown: for a pull-request comment: the summary, a table of the
//     workloads that are not ready or unknown, the ready ones collapsed.
//   - html: one self-contained file that works offline: a summary chart by
//     namespace and by source and a sortable, filterable table.
//   - sarif: SARIF 2.1.0 for code scanning: one result per image that lacks
//     the target, per place it is written.
//
// ExitCode applies the --fail-on policy; NewProgress draws a progress bar
// on a terminal.
package report
