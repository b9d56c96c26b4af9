package db

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Listen turns NOTIFY on channel into non-blocking sends on wake until ctx
// ends, holding one pooled connection and reconnecting after errors.
func Listen(ctx context.Context, pool *pgxpool.Pool, channel string, wake chan<- struct{}, log *slog.Logger) {
	for ctx.Err() == nil {
		err := func() error {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			ident := `"` + channel + `"`
			if _, err := conn.Exec(ctx, "LISTEN "+ident); err != nil {
				return err
			}
			defer func() {
				// The connection goes back to the pool; it must not stay subscribed.
				_, _ = conn.Exec(context.WithoutCancel(ctx), "UNLISTEN "+ident)
			}()
			for {
				if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
					return err
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}()
		if ctx.Err() != nil {
			return
		}
		if log != nil {
			log.Warn("listener lost its connection; retrying", "channel", channel, "error", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
