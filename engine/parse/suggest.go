package parse

import (
	"fmt"
	"strings"
)

// DidYouMean is the hint for a misspelt name: " did you mean `x`?" (with its leading
// space), or "" when no candidate is near enough to be what was meant. Near enough: the
// same but for case, at most one edit in three letters (at least one), or the one
// candidate that starts with the name.
func DidYouMean(name string, candidates []string) string {
	if best := Nearest(name, candidates); best != "" {
		return fmt.Sprintf(" did you mean `%s`?", best)
	}
	return ""
}

// Nearest is DidYouMean's candidate, or "".
func Nearest(name string, candidates []string) string {
	best, bestD := "", -1
	var prefixed []string
	for _, c := range candidates {
		if c == name || c == "" {
			continue
		}
		if strings.HasPrefix(c, name) {
			prefixed = append(prefixed, c)
		}
		d := distance(strings.ToLower(name), strings.ToLower(c))
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	switch {
	case bestD >= 0 && bestD <= max(1, len(name)/3):
		return best
	case len(prefixed) == 1 && len(name) >= 3:
		return prefixed[0]
	}
	return ""
}

// distance is the Levenshtein distance of two strings, by bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
