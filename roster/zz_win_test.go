package roster

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

func loadExp(t *testing.T, inst string, rosterFile string) (*problem, []uint8) {
	data, err := os.ReadFile("/work/shared/benchmarks/nrp/instances/Instance" + inst + ".txt")
	if err != nil {
		t.Skip(err)
	}
	in, err := ParseNRP("i", data)
	if err != nil {
		t.Fatal(err)
	}
	p := compile(in.Model())
	var out struct{ Roster Roster }
	b, err := os.ReadFile(rosterFile)
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &out)
	return p, p.encode(out.Roster)
}

func envInt(k string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(k), &v); err == nil {
		return v
	}
	return def
}

// outsideCover is the cover cost of the cells the colgen leaves out.
func outsideCover(g *colgen) float64 {
	p := g.w.p
	s := 0.0
	for c := range p.cellReq {
		if g.lpCell[c] < 0 {
			s += float64(p.cellCost(int32(c), g.w.s.cnt[c]))
		}
	}
	return s
}

func TestExpWindow(t *testing.T) {
	if os.Getenv("EXPWIN") == "" {
		t.Skip()
	}
	p, x := loadExp(t, os.Getenv("EXPINST"), os.Getenv("EXPROSTER"))
	sh := &shared{began: time.Now(), firstFeasible: -1}
	sh.bestTotal.Store(infCost)
	w := newWorker(p, sh, uint64(envInt("EXP_SEED", 1)), 0, x)
	sh.bestTotal.Store(w.s.total)
	fmt.Println("start total", w.s.total)
	stop := new(atomic.Bool)
	W := envInt("EXP_W", 14)
	step := envInt("EXP_STEP", 7)
	t0 := time.Now()
	for round := 0; round < envInt("EXP_ROUNDS", 1); round++ {
		for a := 0; a+W <= p.D; a += step {
			b := a + W - 1
			var free []bool
			if k := envInt("EXP_RANDK", 0); k > 0 {
				free = make([]bool, p.D)
				n := 0
				if os.Getenv("EXP_ALLWE") != "" {
					for d := 0; d < p.D; d++ {
						if d%7 == 5 || d%7 == 6 {
							free[d] = true
							n++
						}
					}
				}
				for _, d := range w.rng.Perm(p.D) {
					if n < k && !free[d] {
						free[d] = true
						n++
					}
				}
				a, b = 0, p.D-1
				for !free[a] {
					a++
				}
				for !free[b] {
					b--
				}
			} else if os.Getenv("EXP_WKND") != "" {
				free = make([]bool, p.D)
				for d := 0; d < p.D; d++ {
					free[d] = d%7 == 5 || d%7 == 6
				}
				a, b = 0, p.D-1
			}
			t1 := time.Now()
			w0 := w.z.work
			g := w.newColgenDays(math.MaxInt64/4, a, b, free)
			if g == nil {
				fmt.Println("too big")
				return
			}
			g.lp.constant = outsideCover(g)
			g.boundedWindow = true
			g.optimize(stop, 0, rootGap)
			g.rootLP = g.lp.objective()
			g.lb = g.nodeLB
			g.exact = true
			g.deepTies = true
			n := 0
			complete := false
			for first := true; ; first = false {
				if !first && len(g.open) == 0 {
					complete = true
					break
				}
				if time.Since(t1) > time.Duration(envInt("EXP_WSECS", 20))*time.Second {
					break
				}
				rows, ok := g.dive(stop, nil)
				n++
				if !ok {
					break
				}
				if rows == nil {
					continue
				}
				y := append([]uint8(nil), w.s.x...)
				for e, row := range rows {
					copy(y[e*p.D:(e+1)*p.D], row)
				}
				cand := newState(p, y)
				if cand.total < w.s.total {
					fmt.Printf("  improves %d -> %d\n", w.s.total, cand.total)
					w.s = cand
					sh.bestTotal.Store(cand.total)
				}
			}
			fmt.Printf("window %d-%d lp %.3f lb %.3f dives %d complete %v open %d best %d in %v (t %v) work %d\n", a, b, g.rootLP, g.lb, n, complete, len(g.open), w.s.total, time.Since(t1).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond), w.z.work-w0)
			if w.s.total <= int64(envInt("EXP_TARGET", 0)) {
				fmt.Printf("TARGET at %v\n", time.Since(t0))
				out, _ := json.Marshal(map[string]any{"roster": p.decode(w.s.x)})
				os.WriteFile("/tmp/exp_win_out.json", out, 0o644)
				return
			}
			if free != nil && envInt("EXP_RANDK", 0) == 0 {
				break
			}
		}
	}
	out, _ := json.Marshal(map[string]any{"roster": p.decode(w.s.x)})
	os.WriteFile("/tmp/exp_win_out.json", out, 0o644)
}
