package workers

import (
	"math/rand/v2"
	"time"
)

// Backoff returns the delay before redelivery after the given failed attempt
// (1-based).
type Backoff func(attempt int) time.Duration

// ExponentialBackoff doubles from base up to max and spreads each delay by
// ±jitter (a fraction, e.g. 0.2) so retries of a failing batch do not align.
func ExponentialBackoff(base, max time.Duration, jitter float64) Backoff {
	return func(attempt int) time.Duration {
		if attempt < 1 {
			attempt = 1
		}
		d := base
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		if d > max {
			d = max
		}
		if jitter > 0 {
			f := 1 + jitter*(2*rand.Float64()-1)
			d = time.Duration(float64(d) * f)
		}
		return d
	}
}

// DefaultBackoff: 1 s, 2 s, 4 s ... capped at 5 min, ±20 %.
var DefaultBackoff = ExponentialBackoff(time.Second, 5*time.Minute, 0.2)
