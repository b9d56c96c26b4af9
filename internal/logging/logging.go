// Package logging builds the process logger: log/slog, JSON by default, with
// the field names of the seed systems' logs (time, level, caller, message).
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Options select level, format and an optional file.
type Options struct {
	Level  string // debug | info | warn | error
	Format string // json | text
	File   string // appended to besides stderr; reopened on SIGHUP for logrotate
}

// ParseLevel maps a LOG_LEVEL value to a slog level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("unknown log level %q", s)
	}
	return l, nil
}

// New returns the logger and a function that closes the log file.
func New(o Options) (*slog.Logger, func() error, error) {
	level, err := ParseLevel(o.Level)
	if err != nil {
		return nil, nil, err
	}
	var out io.Writer = os.Stderr
	closeFn := func() error { return nil }
	if o.File != "" {
		rf, err := openReopenable(o.File)
		if err != nil {
			return nil, nil, err
		}
		out = io.MultiWriter(os.Stderr, rf)
		closeFn = rf.Close
	}
	return slog.New(NewHandler(out, o.Format, level)), closeFn, nil
}

// NewHandler builds the slog handler; exported for tests that capture logs.
func NewHandler(w io.Writer, format string, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level, AddSource: true, ReplaceAttr: replaceAttr}
	if format == "text" {
		return slog.NewTextHandler(w, opts)
	}
	return slog.NewJSONHandler(w, opts)
}

// replaceAttr renames msg to message and source to caller ("pkg/file.go:45").
func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.MessageKey:
		a.Key = "message"
	case slog.LevelKey:
		a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
	case slog.SourceKey:
		if src, ok := a.Value.Any().(*slog.Source); ok {
			return slog.String("caller", fmt.Sprintf("%s/%s:%d", filepath.Base(filepath.Dir(src.File)), filepath.Base(src.File), src.Line))
		}
	}
	return a
}

// reopenable is a log file reopened on SIGHUP, so logrotate can move it.
type reopenable struct {
	mu   sync.Mutex
	path string
	f    *os.File
	sig  chan os.Signal
}

func openReopenable(path string) (*reopenable, error) {
	r := &reopenable{path: path}
	if err := r.reopen(); err != nil {
		return nil, err
	}
	r.sig = make(chan os.Signal, 1)
	signal.Notify(r.sig, syscall.SIGHUP)
	go func() {
		for range r.sig {
			_ = r.reopen()
		}
	}()
	return r, nil
}

func (r *reopenable) reopen() error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("LOG_FILE %s: %w", r.path, err)
	}
	r.mu.Lock()
	old := r.f
	r.f = f
	r.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (r *reopenable) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Write(p)
}

func (r *reopenable) Close() error {
	signal.Stop(r.sig)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}
