package graph

import (
	"fmt"
	"strings"
)

// CycleError says that some names depend on each other in a loop. Cycle lists the loop,
// its first name repeated at the end.
type CycleError struct {
	Cycle []string
}

func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(e.Cycle, " → ")
}

// order sorts names (given in declaration order) so that every name comes after the names
// it depends on. Among names that are free to go next, the one declared first goes first,
// so the order is stable and reads like the file.
func order(names []string, deps map[string][]string) ([]string, error) {
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	indegree := make([]int, len(names))
	users := make([][]int, len(names))
	for i, n := range names {
		for _, d := range deps[n] {
			j, ok := index[d]
			if !ok {
				continue
			}
			indegree[i]++
			users[j] = append(users[j], i)
		}
	}
	done := make([]bool, len(names))
	out := make([]string, 0, len(names))
	for len(out) < len(names) {
		next := -1
		for i := range names {
			if !done[i] && indegree[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			return nil, &CycleError{Cycle: findCycle(names, deps, done)}
		}
		done[next] = true
		out = append(out, names[next])
		for _, u := range users[next] {
			indegree[u]--
		}
	}
	return out, nil
}

// findCycle walks dependencies from the first unplaced name until a name repeats.
func findCycle(names []string, deps map[string][]string, done []bool) []string {
	placed := map[string]bool{}
	for i, n := range names {
		if done[i] {
			placed[n] = true
		}
	}
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	var start string
	for i, n := range names {
		if !done[i] {
			start = n
			break
		}
	}
	seen := map[string]int{}
	var path []string
	for cur := start; ; {
		if at, ok := seen[cur]; ok {
			return append(path[at:], cur)
		}
		seen[cur] = len(path)
		path = append(path, cur)
		next := ""
		for _, d := range deps[cur] {
			if known[d] && !placed[d] {
				next = d
				break
			}
		}
		if next == "" {
			// Unreachable when order found no free name; keep the error useful anyway.
			return append(path, fmt.Sprintf("(%s?)", cur))
		}
		cur = next
	}
}
