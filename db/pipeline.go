package db

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Pipeline cuts database round trips inside a transaction: statements
// written through Deferred are queued and sent together with the next
// statement that needs an answer (or at Flush), in one round trip. Order is
// kept: Immediate and Deferred share one queue. An error in a deferred
// statement surfaces at the next send and fails the transaction.
type Pipeline struct {
	tx    sender
	batch *pgx.Batch
}

// sender is what a pipeline sends through: a pgx.Tx, or the connection of a
// Tx whose BEGIN is still queued.
type sender interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// NewPipeline wraps a transaction.
func NewPipeline(tx pgx.Tx) *Pipeline { return &Pipeline{tx: tx, batch: &pgx.Batch{}} }

// Pending reports how many statements are queued.
func (p *Pipeline) Pending() int { return p.batch.Len() }

// Flush sends the queued statements.
func (p *Pipeline) Flush(ctx context.Context) error {
	if p.batch.Len() == 0 {
		return nil
	}
	b := p.batch
	p.batch = &pgx.Batch{}
	return p.tx.SendBatch(ctx, b).Close()
}

// send queues sql last and sends the batch; the queued statements before it
// are checked, and the results of the last one are returned.
func (p *Pipeline) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	p.batch.Queue(sql, args...)
	b := p.batch
	p.batch = &pgx.Batch{}
	br := p.tx.SendBatch(ctx, b)
	for i := 0; i < b.Len()-1; i++ {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, err
		}
	}
	return br, nil
}

// Immediate is the DBTX whose statements are sent at once (with whatever is queued).
func (p *Pipeline) Immediate() immediate { return immediate{p} }

// Deferred is the DBTX whose Exec statements are only queued; use it for
// writes whose result is not inspected. Its Query and QueryRow behave like
// Immediate's.
func (p *Pipeline) Deferred() deferred { return deferred{p} }

type immediate struct{ p *Pipeline }

func (d immediate) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if d.p.batch.Len() == 0 {
		return d.p.tx.Exec(ctx, sql, args...)
	}
	br, err := d.p.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (d immediate) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if d.p.batch.Len() == 0 {
		return d.p.tx.Query(ctx, sql, args...)
	}
	br, err := d.p.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (d immediate) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := d.Query(ctx, sql, args...)
	return &row{rows: rows, err: err}
}

type deferred struct{ p *Pipeline }

func (d deferred) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	d.p.batch.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

func (d deferred) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return immediate(d).Query(ctx, sql, args...)
}

func (d deferred) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return immediate(d).QueryRow(ctx, sql, args...)
}

// batchRows closes the batch with the rows.
type batchRows struct {
	pgx.Rows
	br  pgx.BatchResults
	err error
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if r.br != nil {
		r.err = r.br.Close()
		r.br = nil
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// row is pgx.Row over rows, as pgx's own QueryRow does.
type row struct {
	rows pgx.Rows
	err  error
}

func (r *row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		r.rows.Close()
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
