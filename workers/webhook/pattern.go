// Package webhook delivers events to integrators' endpoints following the
// Standard Webhooks specification: a fan-out consumer of the EVENTS stream
// records one delivery per matching endpoint, and a sender posts them with
// signatures, retries on a schedule, and disables endpoints that keep failing.
package webhook

import (
	"fmt"
	"regexp"
	"strings"
)

var patternToken = regexp.MustCompile(`^([a-z][a-z0-9_]*|\*)$`)

// ValidatePattern checks an event type pattern such as "approval.instance.*",
// "approval.*" or "*": dot-separated tokens where "*" is one token, and a
// trailing "*" also covers everything after it.
func ValidatePattern(p string) error {
	if p == "" {
		return fmt.Errorf("empty pattern")
	}
	parts := strings.Split(p, ".")
	if len(parts) > 3 {
		return fmt.Errorf("%q has more than three parts (types are domain.entity.verb)", p)
	}
	for _, t := range parts {
		if !patternToken.MatchString(t) {
			return fmt.Errorf("%q: part %q must be lowercase letters, digits and _ or *", p, t)
		}
	}
	return nil
}

// Match reports whether an event type matches any of the patterns.
func Match(patterns []string, typ string) bool {
	for _, p := range patterns {
		if matchOne(p, typ) {
			return true
		}
	}
	return false
}

func matchOne(p, typ string) bool {
	pp, tt := strings.Split(p, "."), strings.Split(typ, ".")
	for i, tok := range pp {
		last := i == len(pp)-1
		if i >= len(tt) {
			return false
		}
		if tok == "*" && last {
			return true
		}
		if tok != "*" && tok != tt[i] {
			return false
		}
	}
	return len(pp) == len(tt)
}

// Subjects turns patterns into NATS subjects of one org's events (for the
// live stream): "approval.*" becomes "evt.approval.*.*.<org>".
func Subjects(patterns []string, org string) []string {
	var out []string
	for _, p := range patterns {
		parts := strings.Split(p, ".")
		if parts[len(parts)-1] == "*" {
			for len(parts) < 3 {
				parts = append(parts, "*")
			}
		}
		if len(parts) != 3 {
			continue // cannot match a three-part type
		}
		out = append(out, "evt."+strings.Join(parts, ".")+"."+org)
	}
	return out
}
