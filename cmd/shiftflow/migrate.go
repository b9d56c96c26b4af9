package main

import (
	"context"
	"fmt"
	"os"

	"github.com/shiftflow/shiftflow/db"
)

func init() {
	register(command{name: "migrate", summary: "database migrations: shiftflow migrate up|down|status", run: runMigrate})
}

func runMigrate(ctx context.Context, args []string) int {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		fmt.Fprintln(os.Stderr, "usage: shiftflow migrate up|down|status")
		return exitUsage
	}
	a, code := newApp(ctx, false)
	if a == nil {
		return code
	}
	defer a.close()
	switch args[0] {
	case "up":
		applied, err := db.MigrateUp(ctx, a.db)
		for _, v := range applied {
			fmt.Printf("applied %05d\n", v)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "shiftflow migrate up:", err)
			return exitFail
		}
		if len(applied) == 0 {
			fmt.Println("database is up to date")
		}
	case "down":
		v, err := db.MigrateDown(ctx, a.db)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shiftflow migrate down:", err)
			return exitFail
		}
		fmt.Printf("rolled back %05d\n", v)
	case "status":
		st, err := db.MigrationStatuses(ctx, a.db)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shiftflow migrate status:", err)
			return exitFail
		}
		fmt.Printf("%-8s %-9s %s\n", "VERSION", "STATE", "FILE")
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Printf("%05d    %-9s %s\n", s.Version, state, s.Name)
		}
	}
	return exitOK
}
