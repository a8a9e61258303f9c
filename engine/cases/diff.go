package cases

import (
	"fmt"
	"strings"
)

// contextLines is how many unchanged lines a hunk shows around each change.
const contextLines = 3

// unifiedDiff returns the line diff from a to b in unified format, "" when they are equal.
// Golden documents are small, so a longest-common-subsequence table is fast enough and
// keeps the hunks minimal.
func unifiedDiff(aName, bName, a, b string) string {
	if a == b {
		return ""
	}
	return fmt.Sprintf("--- %s\n+++ %s\n", aName, bName) + hunks(a, b, nil)
}

// hunks returns the hunks of the line diff from a to b. label, when set, names each hunk
// after its first changed line (the text after a hunk's @@ header, as git puts a function
// name there).
func hunks(a, b string, label func(first edit) string) string {
	x, y := lines(a), lines(b)
	ops := edits(x, y)

	var out strings.Builder
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		first := ops[i]
		// A hunk runs from contextLines before this change to contextLines after the last
		// change that is at most 2*contextLines unchanged lines from the next one.
		start := max(i-contextLines, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*contextLines {
				break
			}
			end = run
		}
		stop := min(end+contextLines, len(ops))
		hunk := ops[start:stop]
		aStart, bStart := ops[start].a, ops[start].b
		var aLen, bLen int
		for _, op := range hunk {
			if op.kind != '+' {
				aLen++
			}
			if op.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@", span(aStart, aLen), span(bStart, bLen))
		if label != nil {
			if l := label(first); l != "" {
				out.WriteString(" " + l)
			}
		}
		out.WriteByte('\n')
		for _, op := range hunk {
			out.WriteByte(op.kind)
			out.WriteString(op.text)
			out.WriteByte('\n')
		}
		i = stop
	}
	return out.String()
}

type edit struct {
	kind byte // ' ', '-' or '+'
	text string
	a, b int // lines of a and b before this one
}

// edits is a shortest edit script from x to y: deletions before insertions at each point
// of difference, as diff(1) prints them.
func edits(x, y []string) []edit {
	// lcs[i][j] is the length of the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []edit
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out = append(out, edit{' ', x[i], i, j})
			i, j = i+1, j+1
		case j == len(y) || (i < len(x) && lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, edit{'-', x[i], i, j})
			i++
		default:
			out = append(out, edit{'+', y[j], i, j})
			j++
		}
	}
	return out
}

// span prints a hunk range: the first line (1-based) and the count, or for an empty range
// the line before it.
func span(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
