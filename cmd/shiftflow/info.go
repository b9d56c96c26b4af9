package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/shiftflow/shiftflow/internal/version"
)

func init() {
	register(command{name: "config", summary: "print the effective configuration (secrets redacted)", run: runConfig})
	register(command{name: "version", summary: "print version, commit, build time and Go version", run: runVersion})
}

func runConfig(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, code := loadConfig()
	if cfg == nil {
		return code
	}
	settings := cfg.Effective()
	if *asJSON {
		m := map[string]string{}
		for _, s := range settings {
			m[s.Var] = s.Value
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(m)
		return exitOK
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tVALUE\tDESCRIPTION")
	for _, s := range settings {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Var, s.Value, s.Description)
	}
	_ = tw.Flush()
	return exitOK
}

func runVersion(ctx context.Context, args []string) int {
	v := version.Get()
	fmt.Printf("shiftflow %s\ncommit:     %s\nbuild time: %s\ngo:         %s\n", v.Version, v.Commit, v.BuildTime, v.GoVersion)
	return exitOK
}
