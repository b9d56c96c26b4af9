package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/shiftflow/shiftflow/roster"
)

func init() {
	register(command{name: "validate", summary: "check a roster against a problem: feasibility, penalty, violations", run: runValidate})
}

// loadRoster reads a roster as JSON (a solve result or a bare object of
// rows) or, when the file is not JSON, as the benchmark's tab-separated
// grid (one line per employee in the problem's order).
func loadRoster(m *roster.Model, path string) (roster.Roster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		r, err := roster.DecodeRoster(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return r, nil
	}
	r, err := roster.ParseGrid(m, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

func runValidate(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	format := fs.String("format", "nrp", "problem format: nrp or json")
	asJSON := fs.Bool("json", false, "print the full evaluation as JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shiftflow validate --format nrp|json [--json] INSTANCE ROSTER")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(pos) != 2 {
		fs.Usage()
		return exitUsage
	}
	m, err := loadModel(*format, pos[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "validate:", err)
		return exitUsage
	}
	r, err := loadRoster(m, pos[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "validate:", err)
		return exitUsage
	}
	ev, err := roster.Evaluate(m, r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "validate: %s: %v\n", pos[1], err)
		return exitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ev); err != nil {
			fmt.Fprintln(os.Stderr, "validate:", err)
			return exitFail
		}
	} else {
		printEvaluation(os.Stdout, ev)
	}
	if !ev.Feasible {
		return exitFail
	}
	return exitOK
}

// printEvaluation writes a human-readable report: the verdict, the penalty
// by constraint, and every hard violation (soft ones are summarised).
func printEvaluation(w io.Writer, ev *roster.Evaluation) {
	verdict := "feasible"
	if !ev.Feasible {
		verdict = fmt.Sprintf("INFEASIBLE (%d hard violations)", ev.HardViolations)
	}
	fmt.Fprintf(w, "%s, penalty %d\n", verdict, ev.Penalty)
	names := make([]string, 0, len(ev.Breakdown.ByConstraint))
	for n := range ev.Breakdown.ByConstraint {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-22s %d\n", n, ev.Breakdown.ByConstraint[n])
	}
	soft := 0
	for _, v := range ev.Violations {
		if v.Hard {
			fmt.Fprintf(w, "hard %s: %s (by %d %s)\n", v.Rule, v.Message, v.Amount, v.Unit)
		} else {
			soft++
		}
	}
	if soft > 0 {
		fmt.Fprintf(w, "%d priced violations (use --json for the list)\n", soft)
	}
}
