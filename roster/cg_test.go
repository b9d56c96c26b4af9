package roster

import "testing"

// Open branches are taken lowest bound first; among equal bounds, with
// deepTies, the deepest goes first; and those that cannot beat the best roster are
// dropped on the way.
func TestTakeOpenOrder(t *testing.T) {
	node := func(bound float64, depth int) bbNode {
		return bbNode{bound: bound, decisions: make([]decision, depth)}
	}
	type pick struct {
		bound float64
		depth int
	}
	for _, tc := range []struct {
		name string
		open []bbNode
		deep bool
		best int64 // the best roster's penalty; 0 = none yet
		want []pick
	}{
		{"lowest bound first", []bbNode{node(12, 1), node(10.5, 3), node(11, 2)}, true, 0,
			[]pick{{10.5, 3}, {11, 2}, {12, 1}}},
		{"equal bounds: deepest first", []bbNode{node(10.5, 2), node(10.5, 7), node(10.5, 4), node(10, 1)}, true, 0,
			[]pick{{10, 1}, {10.5, 7}, {10.5, 4}, {10.5, 2}}},
		{"equal bounds without deepTies: first opened first", []bbNode{node(10.5, 2), node(10.5, 7), node(10, 1)}, false, 0,
			[]pick{{10, 1}, {10.5, 2}, {10.5, 7}}},
		{"branches that cannot beat the best are dropped", []bbNode{node(10.2, 5), node(11.5, 9), node(10.9, 2)}, true, 12,
			[]pick{{10.2, 5}, {10.9, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh := &shared{}
			sh.bestTotal.Store(infCost)
			if tc.best > 0 {
				sh.bestTotal.Store(tc.best)
			}
			g := &colgen{w: &worker{sh: sh}, open: append([]bbNode(nil), tc.open...), deepTies: tc.deep}
			var got []pick
			for {
				n, ok := g.takeOpen()
				if !ok {
					break
				}
				got = append(got, pick{n.bound, len(n.decisions)})
			}
			if len(got) != len(tc.want) {
				t.Fatalf("took %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("took %v, want %v", got, tc.want)
				}
			}
		})
	}
}
