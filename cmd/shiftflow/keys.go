package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/api"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
)

func init() {
	register(command{name: "keys", summary: "API keys: shiftflow keys create|list|revoke", run: runKeys})
}

func runKeys(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: shiftflow keys create --org ORG --name NAME --scopes approval,schedule | list [--org ORG] | revoke ID")
		return exitUsage
	}
	switch args[0] {
	case "create":
		return keysCreate(ctx, args[1:])
	case "list":
		return keysList(ctx, args[1:])
	case "revoke":
		return keysRevoke(ctx, args[1:])
	}
	fmt.Fprintf(os.Stderr, "shiftflow keys: unknown action %q (create, list, revoke)\n", args[0])
	return exitUsage
}

func cliAudit(ctx context.Context, q *dbsqlc.Queries, org, action, id string, details map[string]any) error {
	d, _ := json.Marshal(details)
	return q.InsertAuditLog(ctx, dbsqlc.InsertAuditLogParams{OrgID: &org, Actor: "cli:" + osUser(), Action: action, ResourceType: "api_key", ResourceID: id, Details: d})
}

func osUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

func keysCreate(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	org := fs.String("org", "", "org id (created if new)")
	name := fs.String("name", "", "a name for the key")
	scopes := fs.String("scopes", "", "comma-separated: "+strings.Join(api.AllScopes, ","))
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var sc []string
	for _, s := range strings.Split(*scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sc = append(sc, s)
		}
	}
	if errs := api.ValidateKeyRequest(*name, *org, sc); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintf(os.Stderr, "shiftflow keys create: --%s: %s\n", strings.SplitN(e.Field, "[", 2)[0], e.Reason)
		}
		return exitUsage
	}
	a, code := newApp(ctx, false)
	if a == nil {
		return code
	}
	defer a.close()
	k, err := api.CreateKey(ctx, a.db, *name, *org, "", sc, "cli:"+osUser())
	if err != nil {
		fmt.Fprintln(os.Stderr, "shiftflow keys create:", err)
		return exitFail
	}
	if err := cliAudit(ctx, dbsqlc.New(a.db), *org, "keys.create", k.ID.String(), map[string]any{"name": *name, "scopes": k.Scopes}); err != nil {
		fmt.Fprintln(os.Stderr, "shiftflow keys create: audit:", err)
		return exitFail
	}
	if *asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(k)
		return exitOK
	}
	fmt.Printf("id:     %s\norg:    %s\nscopes: %s\nkey:    %s\n\nThe key is shown only now; store it safely.\n", k.ID, k.Org, strings.Join(k.Scopes, ","), k.Key)
	return exitOK
}

func keysList(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("keys list", flag.ContinueOnError)
	org := fs.String("org", "", "only this org")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	a, code := newApp(ctx, false)
	if a == nil {
		return code
	}
	defer a.close()
	var filter *string
	if *org != "" {
		filter = org
	}
	keys, err := dbsqlc.New(a.db).ListAPIKeys(ctx, filter)
	if err != nil {
		fmt.Fprintln(os.Stderr, "shiftflow keys list:", err)
		return exitFail
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tORG\tNAME\tPREFIX\tSCOPES\tCREATED\tREVOKED")
	for _, k := range keys {
		rev := "-"
		if k.RevokedAt != nil {
			rev = k.RevokedAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.OrgID, k.Name, k.Prefix, strings.Join(k.Scopes, ","), k.CreatedAt.Format("2006-01-02 15:04"), rev)
	}
	_ = tw.Flush()
	return exitOK
}

func keysRevoke(ctx context.Context, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: shiftflow keys revoke ID")
		return exitUsage
	}
	id, err := uuid.Parse(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "shiftflow keys revoke: ID %q is not a key id (a UUID from `shiftflow keys list`)\n", args[0])
		return exitUsage
	}
	a, code := newApp(ctx, false)
	if a == nil {
		return code
	}
	defer a.close()
	q := dbsqlc.New(a.db)
	k, err := q.RevokeAPIKey(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		fmt.Fprintf(os.Stderr, "shiftflow keys revoke: no active key %s\n", id)
		return exitFail
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shiftflow keys revoke:", err)
		return exitFail
	}
	if err := cliAudit(ctx, q, k.OrgID, "keys.revoke", id.String(), map[string]any{"name": k.Name}); err != nil {
		fmt.Fprintln(os.Stderr, "shiftflow keys revoke: audit:", err)
		return exitFail
	}
	fmt.Printf("revoked %s (%s, org %s); processes stop accepting it within 10 s\n", id, k.Name, k.OrgID)
	return exitOK
}
