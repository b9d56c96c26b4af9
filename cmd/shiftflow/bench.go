package main

import (
	"context"
	"fmt"
	"os"
	"sort"
)

// benches holds the `shiftflow bench <name>` targets; each registers from init.
var benches = map[string]command{}

func registerBench(c command) {
	if _, dup := benches[c.name]; dup {
		panic("duplicate bench " + c.name)
	}
	benches[c.name] = c
}

func init() {
	register(command{name: "bench", summary: "run a benchmark (shiftflow bench <name> -h)", run: runBench})
}

func runBench(ctx context.Context, args []string) int {
	if len(args) == 0 || benches[args[0]].run == nil {
		fmt.Fprintln(os.Stderr, "usage: shiftflow bench <name> [flags]\n\nbenchmarks:")
		names := make([]string, 0, len(benches))
		for n := range benches {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, benches[n].summary)
		}
		return exitUsage
	}
	return benches[args[0]].run(ctx, args[1:])
}
