//go:build race

package roster

// raceSlowdown scales wall-clock tolerances: the race detector slows the
// solver's dense linear algebra down by 20-50x.
const raceSlowdown = 10
