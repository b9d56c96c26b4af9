package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/schollz/progressbar/v3"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/events"
	"github.com/shiftflow/shiftflow/workers/replay"
	"github.com/shiftflow/shiftflow/workers/retention"
)

func init() {
	register(command{name: "replay", summary: "replay dead letters: --id ID, or --consumer C --since T [--until T] [--type T] [--dry-run]", run: runReplay})
	register(command{name: "cleanup", summary: "run the retention cleanup now (--dry-run counts what would go)", run: runCleanup})
}

func runReplay(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	id := fs.String("id", "", "one dead letter (failed_events id)")
	consumer := fs.String("consumer", "", "consumer whose dead letters to replay (approval, schedule, webhook, ...)")
	since := fs.String("since", "", "RFC 3339 time: dead letters recorded since (required with --consumer)")
	until := fs.String("until", "", "RFC 3339 time: recorded before")
	typ := fs.String("type", "", "only this event/command type")
	org := fs.String("org", "", "only this org")
	dry := fs.Bool("dry-run", false, "list what would be replayed, change nothing")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for outcomes")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	f := replay.Filter{OrgID: *org, Consumer: *consumer, Type: *typ}
	var one uuid.UUID
	switch {
	case *id != "" && (*consumer != "" || *since != ""):
		fmt.Fprintln(os.Stderr, "shiftflow replay: --id cannot be combined with --consumer/--since")
		return exitUsage
	case *id != "":
		var err error
		if one, err = uuid.Parse(*id); err != nil {
			fmt.Fprintf(os.Stderr, "shiftflow replay: --id %q is not a failed event id (UUID)\n", *id)
			return exitUsage
		}
	case *consumer == "" || *since == "":
		fmt.Fprintln(os.Stderr, "shiftflow replay: give --id, or --consumer and --since")
		return exitUsage
	}
	for name, v := range map[string]string{"since": *since, "until": *until} {
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "shiftflow replay: --%s %q: expected an RFC 3339 time such as 2026-11-01T00:00:00Z\n", name, v)
			return exitUsage
		}
		if name == "since" {
			f.Since = &t
		} else {
			f.Until = &t
		}
	}
	a, code := newClientApp(ctx)
	if a == nil {
		return code
	}
	defer a.close()
	r := &replay.Replayer{DB: a.db, Publisher: events.NewPublisher(a.js, a.metrics)}
	q := dbsqlc.New(a.db)
	var items []dbsqlc.FailedEvent
	if *id != "" {
		fe, err := q.GetFailedEventOfOrg(ctx, dbsqlc.GetFailedEventOfOrgParams{ID: one})
		if errors.Is(err, pgx.ErrNoRows) {
			fmt.Fprintf(os.Stderr, "shiftflow replay: no failed event %s\n", one)
			return exitFail
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "shiftflow replay:", err)
			return exitFail
		}
		items = append(items, fe)
	} else {
		rows, err := r.Select(ctx, f, replay.MaxJobItems)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shiftflow replay:", err)
			return exitFail
		}
		ids := make([]uuid.UUID, 0, len(rows))
		for _, row := range rows {
			ids = append(ids, row.ID)
		}
		if items, err = q.GetFailedEventsByID(ctx, ids); err != nil {
			fmt.Fprintln(os.Stderr, "shiftflow replay:", err)
			return exitFail
		}
	}
	if *dry {
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCONSUMER\tTYPE\tATTEMPTS\tLAST ERROR")
		for _, fe := range items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", fe.ID, fe.Consumer, fe.Type, fe.Attempts, truncateText(fe.LastError, 60))
		}
		_ = tw.Flush()
		fmt.Printf("%d dead letter(s) would be replayed (dry run: nothing changed)\n", len(items))
		return exitOK
	}
	bar := progressbar.NewOptions(len(items), progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription("replaying"),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	var ids []uuid.UUID
	var errs int
	for _, fe := range items {
		if err := r.One(ctx, fe, "cli:"+osUser()); err != nil {
			fmt.Fprintf(os.Stderr, "\n%s: %v\n", fe.ID, err)
			errs++
		} else {
			ids = append(ids, fe.ID)
		}
		_ = bar.Add(1)
	}
	_ = bar.Finish()
	// Wait for the workers to settle the replayed messages.
	deadline := time.Now().Add(*wait)
	var c replay.Counts
	for {
		var err error
		if c, err = r.Outcomes(ctx, ids); err != nil {
			fmt.Fprintln(os.Stderr, "shiftflow replay:", err)
			return exitFail
		}
		if c.Pending == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	applied := c.Replayed - c.AlreadyApplied - c.FailedAgain - c.Pending
	fmt.Printf("replayed: %d   applied: %d   skipped as already applied: %d   failed again: %d   still pending: %d   not replayed: %d\n",
		len(ids), applied, c.AlreadyApplied, c.FailedAgain, c.Pending, errs)
	if errs > 0 || c.FailedAgain > 0 {
		return exitFail
	}
	return exitOK
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func runCleanup(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("cleanup", flag.ContinueOnError)
	dry := fs.Bool("dry-run", false, "count what would be deleted, delete nothing")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	a, code := newApp(ctx, false)
	if a == nil {
		return code
	}
	defer a.close()
	c := &retention.Cleaner{DB: a.db, Policy: retentionPolicy(a), Metrics: a.metrics, Log: a.log}
	res, err := c.RunOnce(ctx, *dry)
	if errors.Is(err, retention.ErrLocked) {
		fmt.Fprintln(os.Stderr, "shiftflow cleanup: another process is cleaning right now; try again later")
		return exitFail
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shiftflow cleanup:", err)
		return exitFail
	}
	verb := "deleted"
	if *dry {
		verb = "would delete"
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TABLE\tROWS (%s)\n", verb)
	for _, t := range retention.Tables {
		fmt.Fprintf(tw, "%s\t%d\n", t, res[t])
	}
	_ = tw.Flush()
	return exitOK
}
