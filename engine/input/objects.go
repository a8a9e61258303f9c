package input

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/schema"
)

// Schemas returns the built-in kinds plus the kinds of the CRD files crds.
func Schemas(crds ...string) (*schema.Set, error) {
	set, err := schema.Builtin()
	if err != nil {
		return nil, err
	}
	for _, c := range crds {
		data, err := ReadFile(c)
		if err != nil {
			return nil, err
		}
		if _, err := set.AddCRD(data, c); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// Graph loads the graph file at path, typed by the built-in kinds plus the CRD files crds.
// Positions in its errors name the file as name.
func Graph(name, path string, crds ...string) (*graph.Graph, error) {
	set, err := Schemas(crds...)
	if err != nil {
		return nil, err
	}
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return graph.Load(name, data, graph.WithSchemas(set))
}

// Instance reads the one instance in the file at path, as Instances reads it.
func Instance(path string, g *graph.Graph) (map[string]any, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	objs, err := Instances(path, data, g)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("%s: holds %d documents; expected one instance", path, len(objs))
	}
	return objs[0], nil
}

// StoredInstance reads the one instance in the file at path as the API server serves an
// object it stored under an older CRD: checked against the graph's instance kind,
// namespaced and defaulted as Instance does, its structure validated, but not admitted:
// the API server does not check a stored object again until it is written.
func StoredInstance(path string, g *graph.Graph) (map[string]any, error) {
	obj, err := ReadObject(path)
	if err != nil {
		return nil, err
	}
	problems := instanceProblems(obj, g, false)
	if len(problems) > 0 {
		return nil, &InvalidError{Source: path, Problems: problems}
	}
	return obj, nil
}

// Instances reads every instance of data, a stream of YAML documents or a JSON text that
// source names, as the API server would store each: its apiVersion and kind must be the
// graph's instance kind; a namespaced instance with no namespace lands in "default", as
// kubectl puts it; its CRD's defaults are applied, and it must pass what the API server
// checks on create (schema.Set.Admit), with no field given twice. Every problem of every
// document is in the *InvalidError.
func Instances(source string, data []byte, g *graph.Graph) ([]map[string]any, error) {
	docs, err := Documents(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no document; expected an instance (%s)", source, g.Instance.GVK.Kind)
	}
	invalid := &InvalidError{Source: source}
	out := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		where := ""
		if len(docs) > 1 {
			where = fmt.Sprintf("document %d (line %d): ", d.Index+1, d.Line)
		}
		obj, _ := d.Value.(map[string]any)
		var problems []string
		for _, dup := range d.Duplicates {
			problems = append(problems, dup.String())
		}
		problems = append(problems, instanceProblems(obj, g, true)...)
		for _, p := range problems {
			invalid.Problems = append(invalid.Problems, where+p)
		}
		out = append(out, obj)
	}
	if len(invalid.Problems) > 0 {
		return nil, invalid
	}
	return out, nil
}

// instanceProblems checks an instance and defaults it in place; with admit, as the API
// server would admit it, else its structure only.
func instanceProblems(obj map[string]any, g *graph.Graph, admit bool) []string {
	if obj == nil {
		return []string{"expected an object"}
	}
	want := g.Instance.GVK
	if obj["apiVersion"] != want.GroupVersion().String() || obj["kind"] != want.Kind {
		return []string{fmt.Sprintf("apiVersion %v, kind %v: the graph expands %s %s",
			obj["apiVersion"], obj["kind"], want.GroupVersion(), want.Kind)}
	}
	var problems []string
	if g.Instance.Namespaced {
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			obj["metadata"] = meta
		}
		if ns, _ := meta["namespace"].(string); ns == "" {
			meta["namespace"] = "default"
		}
	}
	if err := g.Schemas.Default(obj); err != nil {
		return append(problems, err.Error())
	}
	if !admit {
		if err := g.Schemas.Validate(obj); err != nil {
			problems = append(problems, err.Error())
		}
		return problems
	}
	// Admit reads only; a deadline is the render's business.
	if err := g.Schemas.Admit(context.Background(), obj); err != nil {
		for _, fe := range err.Errs {
			problems = append(problems, fe.Error())
		}
	}
	return problems
}

// InvalidError is an input the API server would refuse, with every reason: each names its
// document (when the input has several) and the field.
type InvalidError struct {
	Source   string
	Problems []string
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	plural := "s"
	if len(e.Problems) == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, "%s: the API server would refuse it (%d problem%s); correct each field named:", e.Source, len(e.Problems), plural)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	return b.String()
}

// Config reads a map of the graph's config keys to values; an empty file is no keys.
func Config(path string) (map[string]any, error) {
	v, err := ReadValue(path)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		return nil, fmt.Errorf("%s: expected a map of config keys to values", path)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// observedExts are the names an observed object's file may end in.
var observedExts = []string{".yaml", ".yml", ".json"}

// Observed reads the directory dir of observed objects: one file <node id>.yaml (or .yml,
// .json) per node, and nothing else. An object may leave out its apiVersion and kind (they
// are the node's); it is validated against the node's kind.
func Observed(dir string, g *graph.Graph) (map[string]map[string]any, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s: expected a directory of observed objects, <node id>.yaml", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]any{}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		id, err := observedID(path, e.Name(), e.IsDir(), g)
		if err != nil {
			return nil, err
		}
		var obj map[string]any
		if rd, isRead := g.Read(id); isRead {
			obj, err = observedList(path, "read "+rd.ID, rd.Kind, rd.Collection(), g)
		} else if n, _ := g.Node(id); n.Collection() {
			obj, err = observedList(path, "resource "+id, n.Kind, true, g)
		} else {
			obj, err = observedObject(path, id, g)
		}
		if err != nil {
			return nil, err
		}
		out[id] = obj
	}
	return out, nil
}

// observedID is the node id a file of an observed directory names.
func observedID(path, name string, isDir bool, g *graph.Graph) (string, error) {
	ext := filepath.Ext(name)
	if isDir || !slices.Contains(observedExts, ext) {
		return "", fmt.Errorf("%s: expected only <node id>.yaml files in %s", path, filepath.Dir(path))
	}
	id := strings.TrimSuffix(name, ext)
	_, isRead := g.Read(id) // a read: the object, or a List for a collection
	if _, ok := g.Node(id); !ok && !isRead {
		return "", fmt.Errorf("%s: the graph has no node %q; its nodes: %s", path, id, strings.Join(nodeIDs(g), ", "))
	}
	return id, nil
}

func observedObject(path, id string, g *graph.Graph) (map[string]any, error) {
	obj, err := ReadObject(path)
	if err != nil {
		return nil, err
	}
	n, _ := g.Node(id)
	gvk := n.Kind.GVK
	for _, f := range [][2]string{{"apiVersion", gvk.GroupVersion().String()}, {"kind", gvk.Kind}} {
		got, set := obj[f[0]]
		if !set {
			obj[f[0]] = f[1]
		} else if got != f[1] {
			return nil, fmt.Errorf("%s: %s is %v, but node %s is a %s %s", path, f[0], got, id, gvk.GroupVersion(), gvk.Kind)
		}
	}
	if err := g.Schemas.Validate(obj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return obj, nil
}

// observedList reads what was observed for what (a read, or a resource with forEach) of
// kind gvk: one object, or for a collection a List of its objects (apiVersion and kind of
// each may be left out).
func observedList(path, what string, kind *schema.Kind, collection bool, g *graph.Graph) (map[string]any, error) {
	obj, err := ReadObject(path)
	if err != nil {
		return nil, err
	}
	gvk := kind.GVK
	objs := []map[string]any{obj}
	if collection {
		if k, _ := obj["kind"].(string); k != "List" {
			return nil, fmt.Errorf("%s: %s is a collection: expected a List (kind: List, items: [...])", path, what)
		}
		items, ok := obj["items"].([]any)
		if !ok && obj["items"] != nil {
			return nil, fmt.Errorf("%s: items: expected a list", path)
		}
		objs = objs[:0]
		for i, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: items[%d]: expected an object", path, i)
			}
			objs = append(objs, m)
		}
	}
	for i, o := range objs {
		for _, f := range [][2]string{{"apiVersion", gvk.GroupVersion().String()}, {"kind", gvk.Kind}} {
			got, set := o[f[0]]
			if !set {
				o[f[0]] = f[1]
			} else if got != f[1] {
				return nil, fmt.Errorf("%s: object %d: %s is %v, but %s is of %s %s", path, i, f[0], got, what, gvk.GroupVersion(), gvk.Kind)
			}
		}
		if err := g.Schemas.Validate(o); err != nil {
			return nil, fmt.Errorf("%s: object %d: %w", path, i, err)
		}
	}
	return obj, nil
}

func nodeIDs(g *graph.Graph) []string {
	ids := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ids[i] = n.ID
	}
	sort.Strings(ids)
	return ids
}
