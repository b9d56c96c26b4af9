package logging

import (
	"log/slog"
	"strings"
	"testing"
)

// FuzzParseLevel: LOG_LEVEL is one of slog's level names (any case,
// optionally with an offset such as warn+2), or refused naming the value.
func FuzzParseLevel(f *testing.F) {
	for _, s := range []string{"debug", "INFO", "warn", "error", "Error+2", "info-4", "", "verbose", "warn+999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLevel(s)
		if err != nil {
			if !strings.Contains(err.Error(), "unknown log level") {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		var again slog.Level
		if again.UnmarshalText([]byte(l.String())) != nil || again != l {
			t.Fatalf("%q -> %v does not round-trip", s, l)
		}
	})
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "Warn": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseLevel("verbose"); err == nil {
		t.Error("ParseLevel(verbose) accepted")
	}
}
