package cases

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// documentDiff is the difference from the golden document want to the document got, by
// part: nodes, each object (named by kind and name) and status, every hunk labelled with
// the field path of its first change, so a failure says which object and which field.
func documentDiff(expectedPath string, want, got any) (string, error) {
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if !wok || !gok {
		a, err := marshal(want)
		if err != nil {
			return "", err
		}
		b, err := marshal(got)
		if err != nil {
			return "", err
		}
		return unifiedDiff(expectedPath, "got", string(a), string(b)), nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ got\n", expectedPath)
	keys := slices.Sorted(maps.Keys(wm))
	for _, k := range slices.Sorted(maps.Keys(gm)) {
		if _, ok := wm[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if reflect.DeepEqual(wm[k], gm[k]) {
			continue
		}
		if k == "objects" {
			if err := objectsDiff(&b, wm[k], gm[k]); err != nil {
				return "", err
			}
			continue
		}
		if err := partDiff(&b, k+":", k, wm[k], gm[k]); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// partDiff writes the hunks from want to got under header; prefix starts their paths.
func partDiff(b *strings.Builder, header, prefix string, want, got any) error {
	x, err := marshalPart(want)
	if err != nil {
		return err
	}
	y, err := marshalPart(got)
	if err != nil {
		return err
	}
	xp, yp := linePaths(x), linePaths(y)
	label := func(first edit) string {
		p := ""
		if first.kind == '-' && first.a < len(xp) {
			p = xp[first.a]
		} else if first.kind == '+' && first.b < len(yp) {
			p = yp[first.b]
		}
		return joinPath(prefix, p)
	}
	b.WriteString(header + "\n")
	b.WriteString(indent(hunks(x, y, label), "  "))
	return nil
}

// objectsDiff matches the objects of want and got by kind, namespace and name, and writes
// a part for each that differs, is missing or is new.
func objectsDiff(b *strings.Builder, want, got any) error {
	wl, _ := want.([]any)
	gl, _ := got.([]any)
	wantAt := map[string]int{}
	for i, o := range wl {
		wantAt[objectKey(o)] = i
	}
	seen := map[string]bool{}
	for i, o := range gl {
		k := objectKey(o)
		seen[k] = true
		j, ok := wantAt[k]
		switch {
		case !ok:
			fmt.Fprintf(b, "%s (objects[%d]): rendered, not in expected.yaml\n", displayName(o), i)
		case !reflect.DeepEqual(wl[j], o):
			if err := partDiff(b, fmt.Sprintf("%s (objects[%d]):", displayName(o), i), "", wl[j], o); err != nil {
				return err
			}
		case i != j:
			fmt.Fprintf(b, "%s: objects[%d] in expected.yaml, objects[%d] now\n", displayName(o), j, i)
		}
	}
	for j, o := range wl {
		if !seen[objectKey(o)] {
			fmt.Fprintf(b, "%s (objects[%d] in expected.yaml): not rendered\n", displayName(o), j)
		}
	}
	return nil
}

func objectKey(o any) string {
	m, _ := o.(map[string]any)
	u := unstructured.Unstructured{Object: m}
	return u.GetAPIVersion() + "/" + u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

func displayName(o any) string {
	m, _ := o.(map[string]any)
	return objectName(m)
}

func marshalPart(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	out, err := marshal(v)
	return string(out), err
}

func joinPath(prefix, p string) string {
	switch {
	case prefix == "":
		return p
	case p == "" || strings.HasPrefix(p, "["):
		return prefix + p
	}
	return prefix + "." + p
}

// linePaths gives, for each line of YAML as marshal writes it (block style, two spaces a
// level, list items at their key's indentation), the field path it sets or opens:
// "spec.template.spec.containers[0].image". Lines of a multi-line string take its field's.
func linePaths(text string) []string {
	type frame struct {
		indent int
		path   string
		items  int // list items seen under this key
		item   bool
	}
	var stack []frame
	var out []string
	block := -1 // the indentation of a key whose value is a block string, while inside it
	blockPath := ""
	for _, line := range lines(text) {
		content := strings.TrimLeft(line, " ")
		ind := len(line) - len(content)
		if block >= 0 && (content == "" || ind > block) {
			out = append(out, blockPath)
			continue
		}
		block = -1
		path := ""
		for {
			// Leave the frames this line is not inside.
			for len(stack) > 0 {
				top := stack[len(stack)-1]
				if top.indent > ind || (top.indent == ind && (top.item || !strings.HasPrefix(content, "- "))) {
					stack = stack[:len(stack)-1]
					continue
				}
				break
			}
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1].path
			}
			if rest, ok := strings.CutPrefix(content, "- "); ok {
				idx := 0
				if len(stack) > 0 {
					idx = stack[len(stack)-1].items
					stack[len(stack)-1].items++
				}
				path = parent + "[" + strconv.Itoa(idx) + "]"
				stack = append(stack, frame{indent: ind, path: path, item: true})
				content, ind = rest, ind+2
				continue // the item's first key, if any, is on this line
			}
			key, value, isKey := splitKey(content)
			if !isKey {
				if path == "" {
					path = parent
				}
				break
			}
			path = joinPath(parent, key)
			stack = append(stack, frame{indent: ind, path: path})
			if strings.HasPrefix(value, "|") || strings.HasPrefix(value, ">") {
				block, blockPath = ind, path
			}
			break
		}
		out = append(out, path)
	}
	return out
}

// splitKey splits "key: value" (the key possibly quoted) into its key and value.
func splitKey(s string) (key, value string, ok bool) {
	if strings.HasPrefix(s, "'") || strings.HasPrefix(s, `"`) {
		q := s[0]
		end := strings.IndexByte(s[1:], q)
		if end < 0 {
			return "", "", false
		}
		key, rest := s[1:end+1], s[end+2:]
		if !strings.HasPrefix(rest, ":") {
			return "", "", false
		}
		return key, strings.TrimSpace(rest[1:]), true
	}
	i := strings.Index(s, ": ")
	if i < 0 {
		if strings.HasSuffix(s, ":") {
			return s[:len(s)-1], "", true
		}
		return "", "", false
	}
	return s[:i], strings.TrimSpace(s[i+2:]), true
}

// indent prefixes every line of s that is not empty.
func indent(s, prefix string) string {
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		if l != "" {
			ls[i] = prefix + l
		}
	}
	return strings.Join(ls, "\n")
}
