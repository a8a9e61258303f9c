package cases

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/assert"
	"github.com/loom-mcp/loom/engine/readiness"
	"github.com/loom-mcp/loom/engine/render"
)

// Result is the outcome of one case.
type Result struct {
	// Name is the case's directory name; Dir its path.
	Name string
	Dir  string
	// Err says why the case could not run to a verdict (a bad input file, a missing
	// expected.yaml); it names the file.
	Err error
	// Diff is a unified diff from expected.yaml to the document the case produced, set
	// when they differ and Update is off.
	Diff string
	// Failures are the places where the document does not satisfy assert.yaml.
	Failures []assert.Failure
	// Updated lists the files Update wrote.
	Updated []string
}

// Failed reports whether the case failed.
func (r Result) Failed() bool {
	return r.Err != nil || r.Diff != "" || len(r.Failures) > 0
}

// ErrNoExpected is the error of a case that has no expected.yaml, outside -update.
var ErrNoExpected = errors.New("no expected.yaml: run with -update and review it")

// Run runs the case in the suite's subdirectory name. With update, expected.yaml is
// rewritten when the document differs from it (or it is missing).
func (s *Suite) Run(ctx context.Context, name string, update bool) Result {
	r := Result{Name: name, Dir: filepath.Join(s.Dir, name)}
	doc, err := s.document(ctx, r.Dir)
	if err != nil {
		r.Err = err
		return r
	}
	got, err := marshal(doc)
	if err != nil {
		r.Err = err
		return r
	}

	// 1. The golden document.
	expectedPath := filepath.Join(r.Dir, "expected.yaml")
	expected, err := ReadValue(expectedPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !update {
			r.Err = ErrNoExpected
			return r
		}
	case err != nil:
		r.Err = err
		return r
	}
	if err == nil && reflect.DeepEqual(expected, doc) {
		// Equal as values: leave the file as it was written, comments and all.
	} else if update {
		if err := os.WriteFile(expectedPath, append([]byte(header), got...), 0o644); err != nil {
			r.Err = err
			return r
		}
		r.Updated = append(r.Updated, expectedPath)
	} else {
		want, err := marshal(expected)
		if err != nil {
			r.Err = fmt.Errorf("%s: %w", expectedPath, err)
			return r
		}
		r.Diff = unifiedDiff(expectedPath, "got", string(want), string(got))
	}

	// 2. The assertions.
	assertPath := filepath.Join(r.Dir, "assert.yaml")
	data, err := os.ReadFile(assertPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r
	case err != nil:
		r.Err = err
		return r
	}
	tree, err := assert.Compile(assertPath, data)
	if err != nil {
		r.Err = err
		return r
	}
	if r.Failures, err = tree.Check(doc); err != nil {
		r.Err = err
	}
	return r
}

const header = "# Golden document of this case, written by `loom test -update`: review it by hand.\n"

// document renders the case in dir and returns {nodes, objects, status[, errors]} as a
// JSON value.
func (s *Suite) document(ctx context.Context, dir string) (any, error) {
	g := s.Graph
	in := render.Input{Validate: true}
	var err error

	// 1. The instance, as the API server would store it.
	if in.Instance, err = s.instance(filepath.Join(dir, "instance.yaml")); err != nil {
		return nil, err
	}

	// 2. Config: the case's keys over the suite's.
	in.Config = map[string]any{}
	for k, v := range s.Config {
		in.Config[k] = v
	}
	configPath := filepath.Join(dir, "config.yaml")
	if v, err := ReadValue(configPath); err == nil {
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return nil, fmt.Errorf("%s: expected a map of config keys to values", configPath)
		}
		for k, v := range m {
			in.Config[k] = v
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	// 3. Observed objects, by node id.
	if in.Observed, err = s.observed(filepath.Join(dir, "observed")); err != nil {
		return nil, err
	}

	// 4. Errors from outside the engine.
	var outside []string
	errorsPath := filepath.Join(dir, "errors.yaml")
	if data, err := os.ReadFile(errorsPath); err == nil {
		if err := yaml.UnmarshalStrict(data, &outside); err != nil {
			return nil, fmt.Errorf("%s: expected a list of strings: %w", errorsPath, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	// 5. Render, then readiness and status: what the controller does on each reconcile.
	res, err := render.Render(ctx, g, in)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", filepath.Join(s.Dir, "suite.yaml"), configPath, err)
	}
	rep, err := readiness.Evaluate(ctx, g, in, res, readiness.Options{Now: s.Now, Errors: outside})
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}

	nodes := map[string]any{}
	objects := []any{}
	reasons := map[string]bool{}
	for _, n := range res.Nodes {
		if n.State == render.Rendered {
			nodes[n.ID] = string(n.State)
			objects = append(objects, n.Object)
			continue
		}
		nodes[n.ID] = string(n.State) + ": " + n.Reason
		reasons[n.Reason] = true
	}
	status := rep.Status
	if status == nil {
		status = map[string]any{}
	}
	doc := map[string]any{"nodes": nodes, "objects": objects, "status": status}
	// Errors a node's reason already shows are not repeated.
	var errs []string
	for _, e := range append(append([]string{}, res.Errors...), rep.Errors...) {
		if !reasons[e] {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		doc["errors"] = errs
	}
	// Through JSON, so the document holds exactly the types expected.yaml decodes to.
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var v any
	if err := utiljson.Unmarshal(js, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// instance reads the instance, checks its kind, and defaults and validates it.
func (s *Suite) instance(path string) (map[string]any, error) {
	v, err := ReadValue(path)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected an object", path)
	}
	want := s.Graph.Instance.GVK
	if obj["apiVersion"] != want.GroupVersion().String() || obj["kind"] != want.Kind {
		return nil, fmt.Errorf("%s: apiVersion %v, kind %v: the graph expands %s %s",
			path, obj["apiVersion"], obj["kind"], want.GroupVersion(), want.Kind)
	}
	if s.Graph.Instance.Namespaced {
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			obj["metadata"] = meta
		}
		if ns, _ := meta["namespace"].(string); ns == "" {
			meta["namespace"] = "default"
		}
	}
	if err := s.Graph.Schemas.Default(obj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := s.Graph.Schemas.Validate(obj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return obj, nil
}

// observed reads dir/<id>.yaml for each node observed.
func (s *Suite) observed(dir string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		id, ok := strings.CutSuffix(e.Name(), ".yaml")
		if e.IsDir() || !ok {
			return nil, fmt.Errorf("%s: expected only <node id>.yaml files in %s", path, dir)
		}
		if rd, isRead := s.Graph.Read(id); isRead {
			v, err := ReadValue(path)
			if err != nil {
				return nil, err
			}
			obj, _ := v.(map[string]any)
			if out[id], err = s.readObserved(path, rd, obj); err != nil {
				return nil, err
			}
			continue
		}
		n, ok := s.Graph.Node(id)
		if !ok {
			return nil, fmt.Errorf("%s: the graph has no node %q; its nodes: %s", path, id, strings.Join(s.nodeIDs(), ", "))
		}
		v, err := ReadValue(path)
		if err != nil {
			return nil, err
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: expected an object", path)
		}
		gvk := n.Kind.GVK
		for _, f := range [][2]string{{"apiVersion", gvk.GroupVersion().String()}, {"kind", gvk.Kind}} {
			got, set := obj[f[0]]
			if !set {
				obj[f[0]] = f[1]
			} else if got != f[1] {
				return nil, fmt.Errorf("%s: %s is %v, but node %s is a %s %s", path, f[0], got, id, gvk.GroupVersion(), gvk.Kind)
			}
		}
		if err := s.Graph.Schemas.Validate(obj); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out[id] = obj
	}
	return out, nil
}

func (s *Suite) nodeIDs() []string {
	ids := make([]string, len(s.Graph.Nodes))
	for i, n := range s.Graph.Nodes {
		ids[i] = n.ID
	}
	sort.Strings(ids)
	return ids
}

// marshal prints a JSON value as YAML with sorted keys, the form expected.yaml is kept in.
func marshal(v any) ([]byte, error) {
	out, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.TrimLeft(out, "\n"), nil
}
