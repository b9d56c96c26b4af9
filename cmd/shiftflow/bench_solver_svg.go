package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// writeConvergenceSVG plots, for the longest run of every instance, the gap
// of the best feasible roster to the best known value over time: a step
// line per instance, log time axis, log(1 + gap%) value axis.
func writeConvergenceSVG(w io.Writer, b *solverBench, best map[int]bestKnown) {
	const (
		width, height = 960, 560
		left, right   = 70, 150
		top, bottom   = 40, 60
	)
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	longest := map[int]*solverRun{}
	maxT := 10.0
	for i := range b.Runs {
		r := &b.Runs[i]
		if cur := longest[r.Number]; cur == nil || r.LimitS > cur.LimitS {
			longest[r.Number] = r
		}
		maxT = max(maxT, float64(r.LimitS))
	}
	var ns []int
	for n := range longest {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	const minT = 0.01
	maxGap := 100.0
	x := func(sec float64) float64 {
		sec = min(max(sec, minT), maxT)
		return float64(left) + plotW*math.Log10(sec/minT)/math.Log10(maxT/minT)
	}
	y := func(gapPct float64) float64 {
		g := min(max(gapPct, 0), maxGap)
		return float64(top) + plotH*(1-math.Log10(1+g)/math.Log10(1+maxGap))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&sb, `<text x="%d" y="22" font-size="15">Gap to best known over time (best feasible roster so far, longest run per instance)</text>`+"\n", left)
	// Grid and axes.
	for _, t := range []float64{0.01, 0.1, 1, 10, 60, 300} {
		if t > maxT {
			continue
		}
		fmt.Fprintf(&sb, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(t), top, x(t), height-bottom)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" text-anchor="middle">%gs</text>`+"\n", x(t), height-bottom+18, t)
	}
	for _, g := range []float64{0, 1, 2, 5, 10, 20, 50, 100} {
		fmt.Fprintf(&sb, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(g), width-right, y(g))
		fmt.Fprintf(&sb, `<text x="%d" y="%.1f" text-anchor="end">%g%%</text>`+"\n", left-6, y(g)+4, g)
	}
	fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#444"/>`+"\n", left, top, plotW, plotH)
	fmt.Fprintf(&sb, `<text x="%.0f" y="%d" text-anchor="middle">time (log scale)</text>`+"\n", float64(left)+plotW/2, height-18)
	fmt.Fprintf(&sb, `<text transform="translate(18,%.0f) rotate(-90)" text-anchor="middle">gap to best known (log(1+gap) scale, capped at 100%%)</text>`+"\n", float64(top)+plotH/2)

	for i, n := range ns {
		r := longest[n]
		bk := best[n]
		// Golden-angle hues keep neighbouring instances apart.
		color := fmt.Sprintf("hsl(%.0f,70%%,%d%%)", math.Mod(float64(i)*137.508, 360), 35+(i%3)*10)
		var pts []string
		lastY := -1.0
		for _, tp := range r.Trace {
			if !tp.Feasible || bk.upper <= 0 {
				continue
			}
			px := x(float64(tp.ElapsedMS) / 1000)
			py := y(gap(tp.Penalty, bk))
			if lastY >= 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, lastY))
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
			lastY = py
		}
		if len(pts) == 0 {
			continue
		}
		// The run may end before its limit (proven optimal).
		end := float64(r.ElapsedMS) / 1000
		if n := len(r.Trace); n > 0 {
			end = max(end, float64(r.Trace[n-1].ElapsedMS)/1000)
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(end), lastY))
		fmt.Fprintf(&sb, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"><title>Instance%d (%d s)</title></polyline>`+"\n",
			color, strings.Join(pts, " "), n, r.LimitS)
		ly := top + 12 + i*20
		fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", width-right+12, ly-4, width-right+36, ly-4, color)
		fmt.Fprintf(&sb, `<text x="%d" y="%d">Instance%d</text>`+"\n", width-right+42, ly, n)
	}
	sb.WriteString("</svg>\n")
	io.WriteString(w, sb.String())
}
