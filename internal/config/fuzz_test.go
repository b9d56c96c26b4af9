package config

import "testing"

// FuzzParseSchedule: a retry schedule either parses into 1 to 50 delays,
// the first 0 and none negative, or is refused naming the entry.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"0s,30s,2m,10m,1h", "0s", "", "1s", "0s,-1s", "0s,x", " 0s , 5m ", "0s,1h30m,9999999h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := ParseSchedule(s)
		if err != nil {
			return
		}
		if len(ds) < 1 || len(ds) > 50 || ds[0] != 0 {
			t.Fatalf("%q -> %v", s, ds)
		}
		for _, d := range ds {
			if d < 0 {
				t.Fatalf("%q -> negative delay in %v", s, ds)
			}
		}
	})
}
