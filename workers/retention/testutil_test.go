package retention

import (
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/shiftflow/shiftflow/internal/metrics"
)

func testCounter(m *metrics.Metrics, table string) float64 {
	return testutil.ToFloat64(m.CleanupDeleted.WithLabelValues(table))
}
