package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiftflow/shiftflow/roster"
)

func init() {
	registerBench(command{name: "cbc", summary: "CBC (Debian coinor-cbc) on a direct IP model of the Curtois & Qu instances, for the solver table's comparison column", run: runBenchCBC})
}

// cbcRun is one CBC run, re-scored by our evaluator.
type cbcRun struct {
	Number    int    `json:"number"`
	LimitS    int    `json:"limit_s"`
	Status    string `json:"status"` // CBC's first solution line, or why there is none
	Penalty   int64  `json:"penalty"`
	Feasible  bool   `json:"feasible"`
	HasRoster bool   `json:"has_roster"`
	ElapsedMS int64  `json:"elapsed_ms"`
	Version   string `json:"version"`
	Date      string `json:"date"`
}

func runBenchCBC(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("bench cbc", flag.ContinueOnError)
	dir := fs.String("dir", "../shared/benchmarks/nrp/instances", "directory with InstanceN.txt files")
	out := fs.String("out", "docs/benchmarks", "directory of solver.json (the CBC runs are added to it and the table re-rendered)")
	which := fs.String("instances", "", "instance numbers to run, e.g. 10-24 (default: all found)")
	limit := fs.Duration("time-limit", 60*time.Second, "CBC time limit (wall clock, one thread)")
	keep := fs.String("keep", "", "keep the LP models and CBC solutions in this directory")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	cbcPath, err := exec.LookPath("cbc")
	if err != nil {
		fmt.Println("bench cbc: cbc not found (install the Debian package coinor-cbc); skipping")
		return exitOK
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		fmt.Printf("bench cbc: benchmark directory %s not found; skipping\n", *dir)
		return exitOK
	}
	selected, err := parseNumbers(*which)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench cbc: --instances:", err)
		return exitUsage
	}
	work := *keep
	if work == "" {
		if work, err = os.MkdirTemp("", "shiftflow-cbc-"); err != nil {
			fmt.Fprintln(os.Stderr, "bench cbc:", err)
			return exitFail
		}
		defer os.RemoveAll(work)
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bench cbc:", err)
		return exitFail
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bench cbc:", err)
		return exitFail
	}
	version := cbcVersion(ctx, cbcPath)
	best, _ := readBestKnown(filepath.Join(filepath.Dir(filepath.Clean(*dir)), "best_known.tsv"))
	jsonPath := filepath.Join(*out, "solver.json")
	bench := loadSolverBench(jsonPath)
	files, _ := filepath.Glob(filepath.Join(*dir, "Instance*.txt"))
	var nums []int
	paths := map[int]string{}
	for _, f := range files {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Instance"), ".txt"))
		if err == nil && (selected == nil || selected[n]) {
			nums = append(nums, n)
			paths[n] = f
		}
	}
	sort.Ints(nums)
	for _, n := range nums {
		if ctx.Err() != nil {
			return exitFail
		}
		run, err := cbcInstance(ctx, cbcPath, paths[n], n, *limit, work)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench cbc: Instance%d: %v\n", n, err)
			return exitFail
		}
		run.Version = version
		bench.putCBC(run)
		pen := "none"
		if run.HasRoster {
			pen = strconv.FormatInt(run.Penalty, 10)
		}
		fmt.Printf("Instance%-3d CBC %ds: penalty %7s feasible %-5v best known %6d  (%s, %d ms)\n",
			n, run.LimitS, pen, run.Feasible, best[n].upper, run.Status, run.ElapsedMS)
		if err := writeSolverBench(*out, bench, best); err != nil {
			fmt.Fprintln(os.Stderr, "bench cbc:", err)
			return exitFail
		}
	}
	return exitOK
}

func cbcVersion(ctx context.Context, path string) string {
	out, _ := exec.CommandContext(ctx, path, "-quit").CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "Version:") {
			return "CBC " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "Version:"))
		}
	}
	return "CBC"
}

// cbcInstance writes the model, runs CBC and scores its roster with our
// evaluator (CBC's own objective is not trusted).
func cbcInstance(ctx context.Context, cbcPath, path string, n int, limit time.Duration, work string) (cbcRun, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cbcRun{}, err
	}
	inst, err := roster.ParseNRP(filepath.Base(path), data)
	if err != nil {
		return cbcRun{}, err
	}
	m, err := loadModel("nrp", path)
	if err != nil {
		return cbcRun{}, err
	}
	lpPath := filepath.Join(work, fmt.Sprintf("Instance%d.lp", n))
	solPath := filepath.Join(work, fmt.Sprintf("Instance%d.sol", n))
	_ = os.Remove(solPath)
	f, err := os.Create(lpPath)
	if err != nil {
		return cbcRun{}, err
	}
	lp := newLPModel(inst)
	w := bufio.NewWriterSize(f, 1<<20)
	if err := lp.write(w); err != nil {
		f.Close()
		return cbcRun{}, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return cbcRun{}, err
	}
	f.Close()
	run := cbcRun{Number: n, LimitS: int(limit.Seconds()), Penalty: -1, Date: time.Now().UTC().Format(time.RFC3339)}
	// CBC gets its limit; reading and presolving a big model is on top, so the
	// process is only killed well after it.
	cctx, cancel := context.WithTimeout(ctx, limit+3*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(cctx, cbcPath, lpPath, "timeMode", "elapsed", "sec", strconv.Itoa(int(limit.Seconds())),
		"threads", "1", "solve", "solu", solPath)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	runErr := cmd.Run()
	run.ElapsedMS = time.Since(start).Milliseconds()
	sol, err := os.ReadFile(solPath)
	if err != nil {
		run.Status = "no solution file"
		if runErr != nil {
			run.Status = "cbc: " + runErr.Error()
		}
		return run, nil
	}
	r, status, err := lp.readSolution(sol)
	run.Status = status
	if err != nil {
		return cbcRun{}, fmt.Errorf("%s: %w", solPath, err)
	}
	if r == nil {
		return run, nil
	}
	ev, err := roster.Evaluate(m, r)
	if err != nil {
		return cbcRun{}, err
	}
	run.HasRoster, run.Penalty, run.Feasible = true, ev.Penalty, ev.Feasible
	return run, nil
}

// lpModel is the straightforward IP a user would hand to CBC: a binary per
// (employee, day, shift), a work indicator per (employee, day), a binary per
// worked weekend, under/over cover variables; every rule of FORMAT.md as
// linear constraints (edge runs exempt from the minimum-length rules).
type lpModel struct {
	inst   *roster.NRPInstance
	shifts map[string]int
	// allowed[e][s]: MaxShifts > 0
	allowed [][]bool
	off     []map[int]bool
}

func newLPModel(inst *roster.NRPInstance) *lpModel {
	m := &lpModel{inst: inst, shifts: map[string]int{}}
	for i, s := range inst.Shifts {
		m.shifts[s.ID] = i
	}
	for _, st := range inst.Staff {
		a := make([]bool, len(inst.Shifts))
		for i := range a {
			a[i] = true
		}
		for _, l := range st.MaxShifts {
			if l.Limit == 0 {
				a[m.shifts[l.Shift]] = false
			}
		}
		m.allowed = append(m.allowed, a)
		off := map[int]bool{}
		for _, d := range inst.DaysOff[st.ID] {
			off[d] = true
		}
		m.off = append(m.off, off)
	}
	return m
}

func (m *lpModel) has(e, d, s int) bool { return m.allowed[e][s] && !m.off[e][d] }

func xName(e, d, s int) string { return fmt.Sprintf("x_%d_%d_%d", e, d, s) }
func yName(e, d int) string    { return fmt.Sprintf("y_%d_%d", e, d) }

// lpWriter writes CPLEX LP rows, breaking long ones.
type lpWriter struct {
	w    *bufio.Writer
	rows int
	err  error
}

func (l *lpWriter) row(terms []string, sense string, rhs int) {
	if l.err != nil {
		return
	}
	l.rows++
	fmt.Fprintf(l.w, " c%d:", l.rows)
	for i, t := range terms {
		if i > 0 && i%12 == 0 {
			l.w.WriteString("\n  ")
		}
		l.w.WriteString(" " + t)
	}
	_, l.err = fmt.Fprintf(l.w, " %s %d\n", sense, rhs)
}

func term(coef int, name string) string {
	if coef < 0 {
		return fmt.Sprintf("- %d %s", -coef, name)
	}
	return fmt.Sprintf("+ %d %s", coef, name)
}

func (m *lpModel) write(w *bufio.Writer) error {
	in := m.inst
	H, S := in.Horizon, len(in.Shifts)
	obj := map[string]int{}
	for _, r := range in.OnRequests {
		e, s := m.staffIndex(r.Employee), m.shifts[r.Shift]
		if m.has(e, r.Day, s) {
			obj[xName(e, r.Day, s)] -= r.Weight // constant +w dropped
		}
	}
	for _, r := range in.OffRequests {
		e, s := m.staffIndex(r.Employee), m.shifts[r.Shift]
		if m.has(e, r.Day, s) {
			obj[xName(e, r.Day, s)] += r.Weight
		}
	}
	for _, c := range in.Cover {
		s := m.shifts[c.Shift]
		obj[fmt.Sprintf("u_%d_%d", c.Day, s)] += c.UnderWeight
		obj[fmt.Sprintf("o_%d_%d", c.Day, s)] += c.OverWeight
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	w.WriteString("Minimize\n obj:")
	for i, k := range names {
		if i > 0 && i%12 == 0 {
			w.WriteString("\n  ")
		}
		w.WriteString(" " + term(obj[k], k))
	}
	w.WriteString("\nSubject To\n")
	l := &lpWriter{w: w}
	for e, st := range in.Staff {
		for d := 0; d < H; d++ {
			// y = sum of x: the work indicator.
			t := []string{term(-1, yName(e, d))}
			for s := 0; s < S; s++ {
				if m.has(e, d, s) {
					t = append(t, term(1, xName(e, d, s)))
				}
			}
			l.row(t, "=", 0)
			// Rotation: s today excludes every forbidden t tomorrow.
			if d+1 < H {
				for s, sh := range in.Shifts {
					if !m.has(e, d, s) {
						continue
					}
					t := []string{term(1, xName(e, d, s))}
					for _, f := range sh.Forbidden {
						if ft := m.shifts[f]; m.has(e, d+1, ft) {
							t = append(t, term(1, xName(e, d+1, ft)))
						}
					}
					if len(t) > 1 {
						l.row(t, "<=", 1)
					}
				}
			}
		}
		for _, lim := range st.MaxShifts {
			s := m.shifts[lim.Shift]
			if lim.Limit == 0 || lim.Limit >= H {
				continue
			}
			var t []string
			for d := 0; d < H; d++ {
				if m.has(e, d, s) {
					t = append(t, term(1, xName(e, d, s)))
				}
			}
			if len(t) > lim.Limit {
				l.row(t, "<=", lim.Limit)
			}
		}
		var mins []string
		for d := 0; d < H; d++ {
			for s, sh := range in.Shifts {
				if m.has(e, d, s) {
					mins = append(mins, term(sh.LengthMinutes, xName(e, d, s)))
				}
			}
		}
		if len(mins) == 0 {
			mins = []string{term(1, yName(e, 0))} // no shift allowed: y is 0, the rows still bind
		}
		l.row(mins, "<=", st.MaxTotalMinutes)
		l.row(mins, ">=", st.MinTotalMinutes)
		// At most MaxConsecutiveShifts working days in any window one longer.
		if c := st.MaxConsecutiveShifts; c < H {
			for d := 0; d+c < H; d++ {
				var t []string
				for i := 0; i <= c; i++ {
					t = append(t, term(1, yName(e, d+i)))
				}
				l.row(t, "<=", c)
			}
		}
		// No inner working run shorter than MinConsecutiveShifts: off at d,
		// work d+1..d+k, off at d+k+1 is excluded (runs touching an edge are exempt).
		for k := 1; k < st.MinConsecutiveShifts; k++ {
			for d := 0; d+k+1 < H; d++ {
				t := []string{term(-1, yName(e, d)), term(-1, yName(e, d+k+1))}
				for i := 1; i <= k; i++ {
					t = append(t, term(1, yName(e, d+i)))
				}
				l.row(t, "<=", k-1)
			}
		}
		// No inner day-off run shorter than MinConsecutiveDaysOff.
		for k := 1; k < st.MinConsecutiveDaysOff; k++ {
			for d := 0; d+k+1 < H; d++ {
				t := []string{term(1, yName(e, d)), term(1, yName(e, d+k+1))}
				for i := 1; i <= k; i++ {
					t = append(t, term(-1, yName(e, d+i)))
				}
				l.row(t, "<=", 1)
			}
		}
		// Weekends: w >= Saturday, w >= Sunday, sum w <= MaxWeekends.
		var ws []string
		for k := 0; k < H/7; k++ {
			wn := fmt.Sprintf("w_%d_%d", e, k)
			l.row([]string{term(1, yName(e, 7*k+5)), term(-1, wn)}, "<=", 0)
			l.row([]string{term(1, yName(e, 7*k+6)), term(-1, wn)}, "<=", 0)
			ws = append(ws, term(1, wn))
		}
		if len(ws) > 0 && st.MaxWeekends < len(ws) {
			l.row(ws, "<=", st.MaxWeekends)
		}
	}
	// Cover: sum x + under - over = requirement.
	for _, c := range in.Cover {
		s := m.shifts[c.Shift]
		t := []string{term(1, fmt.Sprintf("u_%d_%d", c.Day, s)), term(-1, fmt.Sprintf("o_%d_%d", c.Day, s))}
		for e := range in.Staff {
			if m.has(e, c.Day, s) {
				t = append(t, term(1, xName(e, c.Day, s)))
			}
		}
		l.row(t, "=", c.Requirement)
	}
	if l.err != nil {
		return l.err
	}
	w.WriteString("Bounds\n")
	for e := range in.Staff {
		for d := 0; d < H; d++ {
			fmt.Fprintf(w, " 0 <= %s <= 1\n", yName(e, d))
		}
	}
	w.WriteString("Binaries\n")
	for e := range in.Staff {
		for d := 0; d < H; d++ {
			for s := 0; s < S; s++ {
				if m.has(e, d, s) {
					fmt.Fprintf(w, " %s\n", xName(e, d, s))
				}
			}
		}
		for k := 0; k < H/7; k++ {
			fmt.Fprintf(w, " w_%d_%d\n", e, k)
		}
	}
	_, err := w.WriteString("End\n")
	return err
}

func (m *lpModel) staffIndex(id string) int {
	for i, st := range m.inst.Staff {
		if st.ID == id {
			return i
		}
	}
	return -1
}

// readSolution turns CBC's "solu" file into a roster; nil when CBC found no
// integer solution. status is the file's first line.
func (m *lpModel) readSolution(data []byte) (roster.Roster, string, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if !sc.Scan() {
		return nil, "empty solution file", nil
	}
	status := strings.TrimSpace(sc.Text())
	low := strings.ToLower(status)
	if strings.Contains(low, "infeasible") || strings.Contains(low, "no integer") || strings.Contains(low, "no feasible") {
		return nil, status, nil
	}
	if i := strings.Index(low, "objective value"); i >= 0 {
		if v, err := strconv.ParseFloat(strings.Fields(low[i+len("objective value"):])[0], 64); err == nil && v >= 1e40 {
			return nil, status, nil // CBC's "no integer solution" objective
		}
	}
	r := roster.Roster{}
	for _, st := range m.inst.Staff {
		r[st.ID] = make([]string, m.inst.Horizon)
	}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		// "index name value reduced-cost", sometimes with a leading "**".
		if f[0] == "**" {
			f = f[1:]
		}
		name := f[1]
		if !strings.HasPrefix(name, "x_") {
			continue
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return nil, status, fmt.Errorf("value of %s: %w", name, err)
		}
		if v > 1e-4 && v < 1-1e-4 {
			return nil, status + " (fractional: no integer solution)", nil
		}
		if v < 0.5 {
			continue
		}
		p := strings.Split(name, "_")
		if len(p) != 4 {
			return nil, status, fmt.Errorf("unexpected variable %q", name)
		}
		e, _ := strconv.Atoi(p[1])
		d, _ := strconv.Atoi(p[2])
		s, _ := strconv.Atoi(p[3])
		if e < 0 || e >= len(m.inst.Staff) || d < 0 || d >= m.inst.Horizon || s < 0 || s >= len(m.inst.Shifts) {
			return nil, status, fmt.Errorf("variable %q out of range", name)
		}
		r[m.inst.Staff[e].ID][d] = m.inst.Shifts[s].ID
	}
	return r, status, sc.Err()
}
