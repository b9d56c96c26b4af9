package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiftflow/shiftflow/roster"
)

// cbcInstance14 binds the run rules the small CLI instance leaves slack:
// minimum runs of two shifts and two days off, at most three in a row, one
// weekend, a rotation ban and per-type limits.
const cbcInstance14 = `# cbc model test
SECTION_HORIZON
14

SECTION_SHIFTS
E,480,
L,480,E
N,600,E|L

SECTION_STAFF
A,E=14|L=14|N=4,5280,2880,3,2,2,1
B,E=14|L=14|N=0,5280,2880,3,2,2,1
C,E=6|L=14|N=14,5280,2880,3,2,2,1
D,E=14|L=3|N=14,5280,2880,3,2,2,1

SECTION_DAYS_OFF
A,3
B,9,10
C,
D,0

SECTION_SHIFT_ON_REQUESTS
A,5,E,2
C,12,N,3

SECTION_SHIFT_OFF_REQUESTS
B,1,E,1
D,6,L,2

SECTION_COVER
` + "%COVER%"

func cbcCover() string {
	var b strings.Builder
	for d := 0; d < 14; d++ {
		for i, s := range []string{"E", "L", "N"} {
			req := 1
			if i == 0 && d%7 < 5 {
				req = 2
			}
			if d%7 >= 5 && s == "L" {
				req = 0
			}
			b.WriteString(strings.Join([]string{strconv.Itoa(d), s, strconv.Itoa(req), "100", "1"}, ",") + "\n")
		}
	}
	return b.String()
}

func TestCBCSolutionReader(t *testing.T) {
	inst, err := roster.ParseNRP("t", []byte(cliInstance))
	if err != nil {
		t.Fatal(err)
	}
	m := newLPModel(inst)
	tests := []struct {
		name, sol string
		want      map[string][]string // nil: no roster
		err       bool
	}{
		{"optimal", "Optimal - objective value 3.00000000\n      0 x_0_1_0   1   0\n      5 x_2_6_1   1   0\n     ** 9 x_1_0_0   1   0\n     10 y_0_1   1   0\n     11 x_3_4_0   0   0\n",
			map[string][]string{"A": {"", "D", "", "", "", "", ""}, "B": {"D", "", "", "", "", "", ""}, "C": {"", "", "", "", "", "", "N"}, "E": make([]string, 7)}, false},
		{"stopped with a solution", "Stopped on time - objective value 12.00000000\n 0 x_0_1_1 1 0\n",
			map[string][]string{"A": {"", "N", "", "", "", "", ""}, "B": make([]string, 7), "C": make([]string, 7), "E": make([]string, 7)}, false},
		{"infeasible", "Infeasible - objective value 0.00000000\n 0 x_0_1_1 1 0\n", nil, false},
		{"no integer solution", "Stopped on time - objective value 1e+50\n 0 x_0_1_1 0.3 0\n", nil, false},
		{"fractional", "Stopped on time - objective value 10.5\n 0 x_0_1_1 0.5 0\n", nil, false},
		{"out of range", "Optimal - objective value 1\n 0 x_9_1_1 1 0\n", nil, true},
		{"bad value", "Optimal - objective value 1\n 0 x_0_1_1 one 0\n", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _, err := m.readSolution([]byte(tc.sol))
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if tc.want == nil {
				if r != nil {
					t.Fatalf("roster %v, want none", r)
				}
				return
			}
			for id, days := range tc.want {
				if strings.Join(r[id], ",") != strings.Join(days, ",") {
					t.Fatalf("%s = %q, want %q", id, r[id], days)
				}
			}
		})
	}
}

// The IP handed to CBC is the same problem: CBC's optimum, re-scored by our
// evaluator, equals the optimum our solver proves.
func TestCBCModelAgreesWithOurOptimum(t *testing.T) {
	if _, err := exec.LookPath("cbc"); err != nil {
		t.Skip("cbc not installed (Debian package coinor-cbc)")
	}
	for name, text := range map[string]string{"cli": cliInstance, "runs": strings.Replace(cbcInstance14, "%COVER%", cbcCover(), 1)} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "instances")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := writeFile(t, dir, "Instance1.txt", text)
			m, err := loadModel("nrp", path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := roster.Solve(context.Background(), m, roster.Options{TimeLimit: 20 * time.Second, Threads: 1, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Optimal || !res.Feasible {
				t.Fatalf("our solver did not prove an optimum (penalty %d, feasible %v)", res.Penalty, res.Feasible)
			}
			t.Logf("our proven optimum: %d", res.Penalty)
			out := filepath.Join(root, "out")
			if code := runBenchSolver(context.Background(), []string{"--dir", dir, "--out", out, "--limits", "1s", "--threads", "1", "--scale=false"}); code != exitOK {
				t.Fatalf("bench solver exit %d", code)
			}
			if code := runBenchCBC(context.Background(), []string{"--dir", dir, "--out", out, "--time-limit", "60s"}); code != exitOK {
				t.Fatalf("bench cbc exit %d", code)
			}
			b := loadSolverBench(filepath.Join(out, "solver.json"))
			if len(b.CBC) != 1 || !b.CBC[0].HasRoster || !b.CBC[0].Feasible || b.CBC[0].Penalty != res.Penalty {
				t.Fatalf("CBC runs %+v, want one feasible roster of penalty %d", b.CBC, res.Penalty)
			}
			// The table shows the measured CBC value in the instance's row.
			md, _ := os.ReadFile(filepath.Join(out, "solver.md"))
			col, cell := -1, ""
			for _, line := range strings.Split(string(md), "\n") {
				cells := strings.Split(line, "|")
				for i, c := range cells {
					if strings.TrimSpace(c) == "CBC 60 s" {
						col = i
					}
				}
				if strings.HasPrefix(line, "| 1 |") && col >= 0 && col < len(cells) {
					cell = strings.TrimSpace(cells[col])
				}
			}
			if cell != strconv.FormatInt(res.Penalty, 10) {
				t.Fatalf("CBC cell of instance 1 = %q, want %d:\n%s", cell, res.Penalty, md)
			}
		})
	}
}
