package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Tx is a transaction that costs no round trip of its own: BEGIN is queued
// and sent with the first statement that needs an answer, and COMMIT is sent
// with the statements still queued. A read-then-write transaction takes two
// round trips instead of five; on a 2-core machine shared with PostgreSQL
// the round trips (process wake-ups) are most of the cost of a short
// transaction. Use Pipeline().Deferred() for writes whose result is not
// inspected. Tx implements pgx.Tx except nested transactions and large
// objects.
type Tx struct {
	conn *pgxpool.Conn
	pipe *Pipeline
	done bool
}

var _ pgx.Tx = (*Tx)(nil)

// Begin acquires a connection and queues BEGIN.
func Begin(ctx context.Context, pool *pgxpool.Pool) (*Tx, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{tx: conn.Conn(), batch: &pgx.Batch{}}
	p.batch.Queue("begin")
	return &Tx{conn: conn, pipe: p}, nil
}

// SkipCommitFlush makes COMMIT return without waiting for the WAL flush
// (SET LOCAL synchronous_commit = off). Only for transactions whose loss in
// a server crash is harmless because they are redone, such as the relay's
// "published" marks: a lost mark means a publish repeated under the same
// Nats-Msg-Id. Call it before the first statement.
func (t *Tx) SkipCommitFlush() {
	t.pipe.batch.Queue("set local synchronous_commit = off")
}

// Pipeline is the queue the transaction's statements go through.
func (t *Tx) Pipeline() *Pipeline { return t.pipe }

// Commit sends what is queued and COMMIT in one round trip. Any error rolls
// the transaction back.
func (t *Tx) Commit(ctx context.Context) error {
	if t.done {
		return pgx.ErrTxClosed
	}
	b := t.pipe.batch
	t.pipe.batch = &pgx.Batch{}
	b.Queue("commit")
	br := t.conn.Conn().SendBatch(ctx, b)
	var tag pgconn.CommandTag
	var err error
	for i := 0; i < b.Len() && err == nil; i++ {
		tag, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() != "COMMIT" {
		err = fmt.Errorf("commit answered %q: the transaction was rolled back", tag.String())
	}
	if err != nil {
		t.rollback(ctx)
		return err
	}
	t.release()
	return nil
}

// Rollback ends the transaction without its effects. It is safe to call
// after Commit (it then returns pgx.ErrTxClosed, like pgx).
func (t *Tx) Rollback(ctx context.Context) error {
	if t.done {
		return pgx.ErrTxClosed
	}
	t.rollback(ctx)
	return nil
}

func (t *Tx) rollback(ctx context.Context) {
	t.pipe.batch = &pgx.Batch{}
	if pc := t.conn.Conn().PgConn(); !pc.IsClosed() && pc.TxStatus() != 'I' {
		// A connection left inside a transaction is destroyed on release.
		_, _ = t.conn.Exec(context.WithoutCancel(ctx), "rollback")
	}
	t.release()
}

func (t *Tx) release() {
	t.done = true
	t.conn.Release()
}

func (t *Tx) flush(ctx context.Context) error {
	if t.done {
		return pgx.ErrTxClosed
	}
	return t.pipe.Flush(ctx)
}

// Exec, Query and QueryRow send at once, with whatever is queued before them.
func (t *Tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.done {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	return t.pipe.Immediate().Exec(ctx, sql, args...)
}

func (t *Tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.done {
		return nil, pgx.ErrTxClosed
	}
	return t.pipe.Immediate().Query(ctx, sql, args...)
}

func (t *Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.done {
		return &row{err: pgx.ErrTxClosed}
	}
	return t.pipe.Immediate().QueryRow(ctx, sql, args...)
}

func (t *Tx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := t.flush(ctx); err != nil {
		return errBatchResults{err}
	}
	return t.conn.SendBatch(ctx, b)
}

func (t *Tx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, columns, src)
}

func (t *Tx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if t.done {
		return nil, pgx.ErrTxClosed
	}
	return t.conn.Conn().Prepare(ctx, name, sql)
}

var errNested = errors.New("db.Tx does not support nested transactions")

func (t *Tx) Begin(context.Context) (pgx.Tx, error) { return nil, errNested }

// LargeObjects is not supported; the zero value fails on use.
func (t *Tx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *Tx) Conn() *pgx.Conn { return t.conn.Conn() }

// errBatchResults reports one error for every result.
type errBatchResults struct{ err error }

func (e errBatchResults) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, e.err }
func (e errBatchResults) Query() (pgx.Rows, error)         { return nil, e.err }
func (e errBatchResults) QueryRow() pgx.Row                { return &row{err: e.err} }
func (e errBatchResults) Close() error                     { return e.err }
func (e errBatchResults) Tx() pgx.Tx                       { return nil }
