package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/internal/pglocal"
)

func init() {
	register(command{name: "dev", summary: "run everything on this machine (what `make run` does): private Postgres if needed, migrations, embedded NATS, API and workers", run: runDev})
}

func runDev(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	dataDir := fs.String("data", ".data", "directory for the private Postgres cluster, the NATS store and the admin token")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if _, code := loadConfig(); code != exitOK {
		return code
	}
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "shiftflow dev:", err)
		return exitFail
	}
	if os.Getenv("NATS_STORE_DIR") == "" {
		os.Setenv("NATS_STORE_DIR", filepath.Join(*dataDir, "nats"))
	}

	var pg *pglocal.Server
	if os.Getenv("DATABASE_URL") == "" && os.Getenv("DB_HOST") == "" {
		if portFree("127.0.0.1:5432") {
			fmt.Fprintf(os.Stderr, "shiftflow dev: starting a private PostgreSQL under %s/pg on 127.0.0.1:5432\n", *dataDir)
			var err error
			pg, err = pglocal.Start(ctx, pglocal.Options{DataDir: filepath.Join(*dataDir, "pg"), Port: 5432, Durable: true})
			if err != nil {
				fmt.Fprintln(os.Stderr, "shiftflow dev: postgres:", err)
				return exitFail
			}
			defer pg.Stop()
			cfg, _ := loadConfig()
			if err := pg.EnsureRoleAndDatabase(ctx, cfg.DBUser, cfg.DBName); err != nil {
				fmt.Fprintln(os.Stderr, "shiftflow dev: create database:", err)
				return exitFail
			}
			// The default DB_* settings now reach it (also for make migrate-status).
			os.Setenv("DB_HOST", "127.0.0.1")
		} else {
			fmt.Fprintln(os.Stderr, "shiftflow dev: something listens on 127.0.0.1:5432; using it with the DB_* settings (set DATABASE_URL to choose another database)")
		}
	}

	a, code := newApp(ctx, false)
	if a == nil {
		return code
	}
	applied, err := migrateUp(ctx, a)
	a.close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shiftflow dev: migrate:", err)
		return exitFail
	}
	if len(applied) > 0 {
		fmt.Fprintf(os.Stderr, "shiftflow dev: applied migrations %v\n", applied)
	}

	token := os.Getenv("ADMIN_TOKEN")
	if token == "" {
		if token, err = bootstrapToken(filepath.Join(*dataDir, "admin_token")); err != nil {
			fmt.Fprintln(os.Stderr, "shiftflow dev: admin token:", err)
			return exitFail
		}
		os.Setenv("ADMIN_TOKEN", token)
	}
	return serve(ctx, true, nil, func(addr string) {
		port := addr[strings.LastIndex(addr, ":")+1:]
		fmt.Printf(`
shiftflow is running: http://localhost:%[1]s   (ready: http://localhost:%[1]s/ready)
admin token (ADMIN_TOKEN): %[2]s

create an API key:
  curl -s -X POST http://localhost:%[1]s/api/v1/admin/keys -H "Authorization: Bearer %[2]s" \
       -H 'Content-Type: application/json' -d '{"name":"me","org":"acme","scopes":["approval","schedule","webhooks","ops"]}'

`, port, token)
	})
}

// bootstrapToken reads the local admin token, creating it on the first run.
func bootstrapToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	token := "sfadm_" + hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", err
	}
	return token, nil
}

func migrateUp(ctx context.Context, a *app) ([]int64, error) { return db.MigrateUp(ctx, a.db) }
