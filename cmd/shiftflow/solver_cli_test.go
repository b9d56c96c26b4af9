package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliInstance is a small NRP instance (two shifts, four people, a week).
const cliInstance = `# cli test
SECTION_HORIZON
7

SECTION_SHIFTS
D,480,
N,600,D

SECTION_STAFF
A,D=7|N=7,2880,960,5,1,1,1
B,D=7|N=2,2880,960,5,1,1,1
C,D=7|N=7,2880,960,5,1,1,1
E,D=7|N=0,2880,0,5,1,1,1

SECTION_DAYS_OFF
A,0
B,

SECTION_SHIFT_ON_REQUESTS
A,2,D,2

SECTION_SHIFT_OFF_REQUESTS
B,3,N,1

SECTION_COVER
0,D,1,100,1
0,N,1,100,1
1,D,2,100,1
1,N,1,100,1
2,D,1,100,1
3,D,1,100,1
4,N,1,100,1
5,D,1,100,1
6,D,1,100,1
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSolveAndValidateCommands(t *testing.T) {
	dir := t.TempDir()
	inst := writeFile(t, dir, "Instance1.txt", cliInstance)
	out := filepath.Join(dir, "result.json")
	if code := runSolve(context.Background(), []string{"--format", "nrp", "--time-limit", "1s", "--threads", "1", "--seed", "3", "--output", out, inst}); code != exitOK {
		t.Fatalf("solve exit %d", code)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"instance", "penalty", "feasible", "elapsed_ms", "roster", "breakdown", "violations"} {
		if _, ok := res[k]; !ok {
			t.Errorf("result lacks %q", k)
		}
	}
	var rows map[string][]string
	if err := json.Unmarshal(res["roster"], &rows); err != nil || len(rows["A"]) != 7 {
		t.Fatalf("roster %v: %v", rows, err)
	}
	if string(res["feasible"]) != "true" {
		t.Fatalf("feasible = %s", res["feasible"])
	}
	// The solver's own roster validates; flags may follow the arguments.
	if code := runValidate(context.Background(), []string{inst, out, "--format", "nrp"}); code != exitOK {
		t.Fatalf("validate exit %d", code)
	}
	// A roster working A on its fixed day off is infeasible: exit 1.
	bad := writeFile(t, dir, "bad.json", `{"A":["D","","","","","",""],"B":["","","","","","",""],"C":["","","","","","",""],"E":["","","","","","",""]}`)
	if code := runValidate(context.Background(), []string{"--json", inst, bad}); code != exitFail {
		t.Fatalf("infeasible roster: exit %d", code)
	}
	// The benchmark's tab-separated grid is read too (C works too little).
	grid := writeFile(t, dir, "grid.roster", "\tD\tD\t\t\t\t\nD\tD\t\t\t\t\t\n\t\t\t\t\t\t\n\t\t\t\t\t\t\n")
	if code := runValidate(context.Background(), []string{inst, grid}); code != exitFail {
		t.Fatalf("grid roster: exit %d", code)
	}
	// Bad input is a usage error.
	broken := writeFile(t, dir, "broken.txt", strings.Replace(cliInstance, "N,600,D", "N,600,Q", 1))
	if code := runSolve(context.Background(), []string{"--time-limit", "1s", broken}); code != exitUsage {
		t.Fatalf("broken instance: exit %d", code)
	}
	if code := runValidate(context.Background(), []string{inst, writeFile(t, dir, "x.json", `{"A":["D"]}`)}); code != exitUsage {
		t.Fatalf("short roster: exit %d", code)
	}
	if code := runSolve(context.Background(), []string{"--format", "yaml", inst}); code != exitUsage {
		t.Fatalf("unknown format: exit %d", code)
	}
	if code := runSolve(context.Background(), []string{}); code != exitUsage {
		t.Fatalf("no instance: exit %d", code)
	}
}

func TestBenchSolverCommand(t *testing.T) {
	if code := runBenchSolver(context.Background(), []string{"--dir", filepath.Join(t.TempDir(), "absent")}); code != exitOK {
		t.Fatalf("absent directory must be skipped, exit %d", code)
	}
	root, instDir := benchDir(t, 2)
	out := filepath.Join(root, "out")
	args := []string{"--dir", instDir, "--out", out, "--instances", "1", "--limits", "1s", "--threads", "1", "--scale=false"}
	if code := runBenchSolver(context.Background(), args); code != exitOK {
		t.Fatalf("bench exit %d", code)
	}
	md, err := os.ReadFile(filepath.Join(out, "solver.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| 1 | 7 × 4 × 2 | 1 |") || strings.Contains(string(md), "| 2 |") {
		t.Fatalf("table:\n%s", md)
	}
	svg, err := os.ReadFile(filepath.Join(out, "solver.svg"))
	if err != nil || !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(string(svg), "Instance1") {
		t.Fatalf("svg: %v\n%s", err, svg)
	}
	// A second partial run merges into the same files.
	args[5] = "2"
	if code := runBenchSolver(context.Background(), args); code != exitOK {
		t.Fatalf("second bench exit %d", code)
	}
	md, _ = os.ReadFile(filepath.Join(out, "solver.md"))
	if !strings.Contains(string(md), "| 1 |") || !strings.Contains(string(md), "| 2 |") {
		t.Fatalf("merged table:\n%s", md)
	}
	if code := runBenchSolver(context.Background(), []string{"--dir", instDir, "--instances", "x"}); code != exitUsage {
		t.Fatalf("bad --instances: exit %d", code)
	}
	if code := runBenchSolver(context.Background(), []string{"--dir", instDir, "--seeds", "0"}); code != exitUsage {
		t.Fatalf("--seeds 0: exit %d", code)
	}
}

// Further seeds are listed with how many of them meet the target, and a
// new first run replaces the set.
func TestBenchSolverSeeds(t *testing.T) {
	root, instDir := benchDir(t, 1)
	out := filepath.Join(root, "out")
	args := []string{"--dir", instDir, "--out", out, "--limits", "10s", "--threads", "1", "--scale=false", "--seeds", "3"}
	if code := runBenchSolver(context.Background(), args); code != exitOK {
		t.Fatalf("bench exit %d", code)
	}
	var b solverBench
	data, err := os.ReadFile(filepath.Join(out, "solver.json"))
	if err != nil || json.Unmarshal(data, &b) != nil {
		t.Fatalf("solver.json: %v", err)
	}
	if len(b.Runs) != 1 || len(b.SeedRuns) != 2 || b.SeedRuns[0].Seed != 2 || b.SeedRuns[1].Seed != 3 || b.SeedRuns[1].Trace != nil {
		t.Fatalf("runs %+v\nseed runs %+v", b.Runs, b.SeedRuns)
	}
	md, _ := os.ReadFile(filepath.Join(out, "solver.md"))
	row := fmt.Sprintf("| 1 | 10 s | %d, %d, %d | 1 | 3 of 3 |", b.Runs[0].Penalty, b.SeedRuns[0].Penalty, b.SeedRuns[1].Penalty)
	if !strings.Contains(string(md), "## Seeds") || !strings.Contains(string(md), row) {
		t.Fatalf("want %q in\n%s", row, md)
	}
	args[len(args)-1] = "1"
	if code := runBenchSolver(context.Background(), args); code != exitOK {
		t.Fatalf("second bench exit %d", code)
	}
	data, _ = os.ReadFile(filepath.Join(out, "solver.json"))
	b = solverBench{}
	if json.Unmarshal(data, &b) != nil || len(b.SeedRuns) != 0 {
		t.Fatalf("a new first run must drop the old seeds: %+v", b.SeedRuns)
	}
	if md, _ = os.ReadFile(filepath.Join(out, "solver.md")); strings.Contains(string(md), "## Seeds") {
		t.Fatalf("no seeds section without further seeds:\n%s", md)
	}
}

func TestSeedsSection(t *testing.T) {
	run := func(n, limit int, seed uint64, pen int64, feasible bool) solverRun {
		return solverRun{Number: n, LimitS: limit, Seed: seed, Penalty: pen, Feasible: feasible}
	}
	b := &solverBench{
		Runs: []solverRun{run(5, 10, 1, 1143, true), run(5, 60, 1, 1143, true), run(9, 10, 1, 450, true)},
		SeedRuns: []solverRun{
			run(5, 10, 2, 1145, true), run(5, 10, 3, 1200, false),
			run(9, 10, 2, 439, true),
		},
	}
	best := map[int]bestKnown{5: {upper: 1143}, 9: {upper: 439}}
	var sb strings.Builder
	writeSeedsSection(&sb, b, best)
	for _, want := range []string{
		"| 5 | 10 s | 1143, 1145, 1200 (infeasible) | 1143 | 1 of 3 |",
		// 9's target is at 60 s: its 10 s seeds are listed, not counted.
		"| 9 | 10 s | 450, 439 | 439 | (target at 60 s) |",
	} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("want %q in\n%s", want, sb.String())
		}
	}
	if strings.Contains(sb.String(), "| 5 | 60 s |") {
		t.Errorf("a limit without further seeds is not listed:\n%s", sb.String())
	}
	sb.Reset()
	writeSeedsSection(&sb, &solverBench{Runs: b.Runs}, best)
	if sb.Len() != 0 {
		t.Errorf("no section without seed runs: %q", sb.String())
	}
}

func TestParseNumbers(t *testing.T) {
	got, err := parseNumbers("1-3, 7,20-21")
	if err != nil || len(got) != 6 || !got[2] || !got[21] || got[4] {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"3-1", "a", "1-", "1,,2"} {
		if _, err := parseNumbers(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if all, err := parseNumbers(""); all != nil || err != nil {
		t.Fatalf("empty: %v %v", all, err)
	}
}

// benchDir lays out a benchmark directory: n copies of the CLI instance
// as Instance1..n and a best_known.tsv giving Instance1 the value 1.
func benchDir(t *testing.T, n int) (root, instDir string) {
	root = t.TempDir()
	instDir = filepath.Join(root, "instances")
	if err := os.Mkdir(instDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		writeFile(t, instDir, fmt.Sprintf("Instance%d.txt", i), cliInstance)
	}
	writeFile(t, root, "best_known.tsv", "# comment\ninstance\tdays\tstaff\tshift_types\tbest_known_upper_bound\tbest_known_lower_bound\toptimal\tsource\nInstance1\t7\t4\t2\t1\t0\tno\ttest\n")
	return root, instDir
}
