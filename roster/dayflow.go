package roster

// The day move re-assigns every employee's value on one day at once,
// exactly: each employee takes one value, its row cost changes by a known
// amount (only that day differs), and a cover cell's cost is convex in the
// number of employees on it. That is a min-cost flow (employees → cover
// cells → sink). It starts from today's assignment as a flow and cancels
// negative cycles: late in a search most days are already optimal, and
// proving that takes one shortest-path pass instead of one per employee
// (successive shortest paths from an empty flow, still used when today's
// assignment breaks a hard cell rule). It finds the chains
// "A moves to the short shift, B takes A's shift, C comes in for B" that
// row-by-row moves only reach one step at a time.
//
// It applies when no (day, value) feeds more than one cover cell (the
// benchmark format; cover per skill can make one assignment count twice)
// and the fairness term is off (it does not split by employee).

// flowGraph is a residual graph for small min-cost flows.
type flowGraph struct {
	head []int32 // first arc per node, -1 for none
	next []int32
	to   []int32
	cap  []int32
	cost []int64

	dist  []int64
	prev  []int32 // arc into each node on the shortest path
	inQ   []bool
	queue []int32
	seen  []int32 // walk marks for the cycle search
}

func (g *flowGraph) reset(n int) {
	g.head = g.head[:0]
	for i := 0; i < n; i++ {
		g.head = append(g.head, -1)
	}
	g.next, g.to, g.cap, g.cost = g.next[:0], g.to[:0], g.cap[:0], g.cost[:0]
}

// arc adds u→v with its reverse; it returns the forward arc's index.
func (g *flowGraph) arc(u, v int, cap int32, cost int64) int {
	for _, a := range [2]struct {
		from, to int
		cap      int32
		cost     int64
	}{{u, v, cap, cost}, {v, u, 0, -cost}} {
		g.next = append(g.next, g.head[a.from])
		g.head[a.from] = int32(len(g.to))
		g.to = append(g.to, int32(a.to))
		g.cap = append(g.cap, a.cap)
		g.cost = append(g.cost, a.cost)
	}
	return len(g.to) - 2
}

// augment sends one unit along a cheapest path from s to t; false when t
// is unreachable. (Arc costs may be negative; under successive shortest
// paths the residual graph has no negative cycle.)
func (g *flowGraph) augment(s, t int) bool {
	if g.shortestPaths(s, false) || g.dist[t] == infCost {
		return false
	}
	for v := int32(t); v != int32(s); v = g.to[g.prev[v]^1] {
		a := g.prev[v]
		g.cap[a]--
		g.cap[a^1]++
	}
	return true
}

// cancelNegativeCycle looks for a cycle of negative cost in the residual
// graph and sends one unit around it; false when there is none, so the
// flow is optimal for its value.
func (g *flowGraph) cancelNegativeCycle() bool {
	return g.shortestPaths(-1, true)
}

// shortestPaths is Bellman-Ford with a queue over the arcs with capacity,
// from node s, or from every node at once (all at distance 0) when s < 0.
// With cancel it looks for a cycle among the predecessors every n
// relaxations, which has negative cost, long before a path grows n arcs
// long; it sends one unit around the first it finds and reports true.
func (g *flowGraph) shortestPaths(s int, cancel bool) bool {
	n := len(g.head)
	g.dist, g.prev, g.inQ, g.seen = g.dist[:0], g.prev[:0], g.inQ[:0], g.seen[:0]
	q := g.queue[:0]
	for i := 0; i < n; i++ {
		if s < 0 || i == s {
			g.dist = append(g.dist, 0)
			g.inQ = append(g.inQ, true)
			q = append(q, int32(i))
		} else {
			g.dist = append(g.dist, infCost)
			g.inQ = append(g.inQ, false)
		}
		g.prev = append(g.prev, -1)
		g.seen = append(g.seen, -1)
	}
	defer func() { g.queue = q[:0] }()
	for relaxed := 0; len(q) > 0; {
		u := q[0]
		q = q[1:]
		g.inQ[u] = false
		for a := g.head[u]; a >= 0; a = g.next[a] {
			if g.cap[a] == 0 {
				continue
			}
			v := g.to[a]
			nd := g.dist[u] + g.cost[a]
			if nd >= g.dist[v] {
				continue
			}
			g.dist[v], g.prev[v] = nd, a
			if relaxed++; cancel && relaxed%n == 0 && g.cancelPredecessorCycle() {
				return true
			}
			if !g.inQ[v] {
				g.inQ[v] = true
				q = append(q, v)
			}
		}
	}
	return false
}

// cancelPredecessorCycle sends one unit around a cycle of predecessor
// arcs if there is one.
func (g *flowGraph) cancelPredecessorCycle() bool {
	for i := range g.seen {
		g.seen[i] = -1
	}
	for start := range g.head {
		x := int32(start)
		for g.seen[x] < 0 {
			g.seen[x] = int32(start)
			a := g.prev[x]
			if a < 0 {
				break
			}
			x = g.to[a^1]
		}
		if g.seen[x] != int32(start) || g.prev[x] < 0 {
			continue // ended at a root or on an earlier walk
		}
		for y := x; ; { // x is on a cycle of this walk
			a := g.prev[y]
			g.cap[a]--
			g.cap[a^1]++
			if y = g.to[a^1]; y == x {
				return true
			}
		}
	}
	return false
}

// send pushes k units along arc a.
func (g *flowGraph) send(a int, k int32) {
	g.cap[a] -= k
	g.cap[a^1] += k
}

// dayFlow holds a worker's scratch for day moves.
type dayFlow struct {
	g       flowGraph
	choice  [][2]int32 // per employee: the arcs e→value, with value
	vals    []uint8
	curArc  []int32 // per employee: the arc of today's value, -1 if not allowed
	inArc   []int32 // per employee: the arc source → employee
	onCell  []int32 // per value: employees on it that count for its cover cell
	changes []rowChange
	buf     []uint8
}

// flowable reports whether day moves apply to p (see above).
func (p *problem) flowable() bool {
	if p.fair {
		return false
	}
	for k := 0; k+1 < len(p.dsStart); k++ {
		if p.dsStart[k+1]-p.dsStart[k] > 1 {
			return false
		}
	}
	return true
}

// dayMove re-assigns day d optimally and applies the result when it
// lowers the objective; it returns the change.
func (w *worker) dayMove(d int) int64 {
	p, s := w.p, w.s
	D, V, E := p.D, p.V, p.E
	f := &w.flow
	// Nodes: 0 source, 1 sink, 2..2+E employees, then one per value of
	// the day that feeds a cover cell.
	const src, sink = 0, 1
	cellNode := func(v int) int { return 2 + E + v }
	f.g.reset(2 + E + V)
	f.choice = f.choice[:0]
	f.vals = f.vals[:0]
	one := f.buf[:0]
	one = append(one, 0)
	f.buf = one
	f.curArc, f.inArc = f.curArc[:0], f.inArc[:0]
	if cap(f.onCell) < V {
		f.onCell = make([]int32, V)
	}
	f.onCell = f.onCell[:V]
	clear(f.onCell)
	warm := true
	for e := 0; e < E; e++ {
		f.inArc = append(f.inArc, int32(f.g.arc(src, 2+e, 1, 0)))
		cur := s.x[e*D+d]
		f.curArc = append(f.curArc, -1)
		for v := 0; v < V; v++ {
			if !p.allowed[(e*D+d)*V+v] {
				continue
			}
			var rc int64
			if uint8(v) != cur {
				one[0] = uint8(v)
				rc = s.rowDelta(e, d, one)
			}
			to := sink
			if k := d*V + v; v > 0 && p.dsStart[k+1] > p.dsStart[k] && p.counts(e, p.cellList[p.dsStart[k]]) {
				to = cellNode(v)
			}
			a := f.g.arc(2+e, to, 1, rc)
			f.choice = append(f.choice, [2]int32{int32(a), int32(e)})
			f.vals = append(f.vals, uint8(v))
			if uint8(v) == cur {
				f.curArc[e] = int32(a)
				if to != sink {
					f.onCell[v]++
				}
			}
		}
		warm = warm && f.curArc[e] >= 0
	}
	// Cover: the first req employees on a cell save its under weight
	// each, every further one costs its over weight.
	for v := 1; v < V; v++ {
		k := d*V + v
		if p.dsStart[k+1] == p.dsStart[k] {
			continue
		}
		c := p.cellList[p.dsStart[k]]
		n := f.onCell[v] // today's flow: the cheaper arc fills first
		if r := p.cellReq[c]; r > 0 {
			under := int32(min(r, int64(E)))
			a := f.g.arc(cellNode(v), sink, under, -p.cellUnder[c])
			if warm {
				f.g.send(a, min(n, under))
				n -= min(n, under)
			}
		}
		a := f.g.arc(cellNode(v), sink, int32(E), p.cellOver[c])
		if warm {
			f.g.send(a, n)
		}
	}
	if warm {
		for e := 0; e < E; e++ {
			f.g.send(int(f.inArc[e]), 1)
			f.g.send(int(f.curArc[e]), 1)
		}
		// Each cycle lowers the cost; a bound keeps a day move short
		// whatever happens, and the flow so far is a valid assignment.
		for cycles := 0; cycles < E*V && f.g.cancelNegativeCycle(); cycles++ {
		}
	} else {
		for e := 0; e < E; e++ {
			if !f.g.augment(src, sink) {
				return 0 // an employee with no allowed value: nothing to do
			}
		}
	}
	f.changes = f.changes[:0]
	newVals := f.buf[:0]
	for i, ch := range f.choice {
		if f.g.cap[ch[0]] == 0 { // the unit went through this arc
			e := int(ch[1])
			v := f.vals[i]
			if v != s.x[e*D+d] {
				newVals = append(newVals, v)
				f.changes = append(f.changes, rowChange{e: e, a: d})
			}
		}
	}
	f.buf = newVals
	for i := range f.changes {
		f.changes[i].nv = newVals[i : i+1]
	}
	if len(f.changes) == 0 {
		return 0
	}
	// The state prices the move itself (the flow's optimum is never worse
	// than today's assignment); only a strict improvement is applied.
	if s.moveDelta(f.changes) < 0 {
		return s.apply(f.changes)
	}
	return 0
}
