package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is CPU time used so far by this process and by every PostgreSQL
// process on the machine (the bench's private server), so a phase can be
// reported as CPU per action on each side.
type cpuSample struct {
	self, postgres time.Duration
}

func sampleCPU() cpuSample {
	var s cpuSample
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15), counted after ")".
		line := string(b)
		open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
		if open < 0 || end < open || line[open+1:end] != "postgres" {
			continue
		}
		f := strings.Fields(line[end+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		s.postgres += time.Duration(ut+st) * (time.Second / 100) // USER_HZ
	}
	return s
}

// perAction formats the CPU used between two samples per action.
func (s cpuSample) perAction(later cpuSample, n int) string {
	if n <= 0 {
		return ""
	}
	self := (later.self - s.self) / time.Duration(n)
	pg := (later.postgres - s.postgres) / time.Duration(n)
	return "CPU per action: shiftflow " + self.Round(time.Microsecond).String() + ", PostgreSQL " + pg.Round(time.Microsecond).String()
}
