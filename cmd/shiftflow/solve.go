package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shiftflow/shiftflow/roster"
)

func init() {
	register(command{name: "solve", summary: "solve a rostering problem (NRP text or domain JSON)", run: runSolve})
}

// parseArgs parses flags that may appear before or after positional
// arguments and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// loadModel reads a problem file in the given format ("nrp" or "json").
func loadModel(format, path string) (*roster.Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case "nrp":
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		inst, err := roster.ParseNRP(name, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m := inst.Model()
		if errs := m.Validate(); len(errs) > 0 {
			return nil, fmt.Errorf("%s: %w", path, roster.ValidationError(errs))
		}
		return m, nil
	case "json":
		m, err := roster.DecodeModel(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if m.Name == "" {
			m.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		}
		return m, nil
	}
	return nil, fmt.Errorf("unknown format %q (want nrp or json)", format)
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runSolve(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("solve", flag.ContinueOnError)
	format := fs.String("format", "nrp", "input format: nrp (Curtois & Qu text) or json (domain model)")
	limit := fs.Duration("time-limit", 10*time.Second, "search time")
	seed := fs.Uint64("seed", 1, "random seed")
	threads := fs.Int("threads", 0, "search threads (0 = all cores)")
	output := fs.String("output", "", "write the result JSON to this file instead of stdout")
	trace := fs.Bool("trace", false, "include the convergence trace in the result")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shiftflow solve --format nrp|json --time-limit 10s [--seed 1] [--threads N] [--output FILE] INSTANCE")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitUsage
	}
	if *limit <= 0 {
		fmt.Fprintln(os.Stderr, "solve: --time-limit must be positive")
		return exitUsage
	}
	m, err := loadModel(*format, pos[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "solve:", err)
		return exitUsage
	}
	opt := roster.Options{TimeLimit: *limit, Seed: *seed, Threads: *threads}
	live := isTerminal(os.Stderr)
	if live {
		opt.Progress = func(p roster.Progress) {
			state := "feasible"
			if !p.Feasible {
				state = fmt.Sprintf("infeasible, hard violation score %d", p.HardViolations)
			}
			fmt.Fprintf(os.Stderr, "\r%6.1fs  best penalty %d (%s)   ", p.Elapsed.Seconds(), p.BestPenalty, state)
		}
	}
	res, err := roster.Solve(ctx, m, opt)
	if live {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "solve:", err)
		return exitFail
	}
	if !*trace {
		res.Trace = nil
	}
	var out io.Writer = os.Stdout
	if *output != "" {
		f, err := os.Create(*output)
		if err != nil {
			fmt.Fprintln(os.Stderr, "solve:", err)
			return exitFail
		}
		defer f.Close()
		out = f
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "solve:", err)
		return exitFail
	}
	if *output != "" {
		fmt.Fprintf(os.Stderr, "%s: penalty %d, feasible %v, %d ms\n", res.Instance, res.Penalty, res.Feasible, res.ElapsedMS)
	}
	return exitOK
}
