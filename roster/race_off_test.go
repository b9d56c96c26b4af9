//go:build !race

package roster

const raceSlowdown = 1
