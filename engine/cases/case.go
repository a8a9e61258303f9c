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

	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/assert"
	"github.com/loom-mcp/loom/engine/input"
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
	// Refused are the objects and statuses, of expected.yaml or computed, that the API
	// server would refuse: each names where, the object, and every violation.
	Refused []string
	// Updated lists the files Update wrote.
	Updated []string
}

// Failed reports whether the case failed.
func (r Result) Failed() bool {
	return r.Err != nil || r.Diff != "" || len(r.Failures) > 0 || len(r.Refused) > 0
}

// ErrNoExpected is the error of a case that has no expected.yaml, outside -update.
var ErrNoExpected = errors.New("no expected.yaml: run with -update and review it")

// Run runs the case in the suite's subdirectory name. With update, expected.yaml is
// rewritten when the document differs from it (or it is missing). A case with
// expected-error.txt must fail instead, with an error that says each of its lines.
func (s *Suite) Run(ctx context.Context, name string, update bool) Result {
	r := Result{Name: name, Dir: filepath.Join(s.Dir, name)}
	wantErr, err := expectedError(r.Dir)
	if err != nil {
		r.Err = err
		return r
	}
	doc, inst, err := s.document(ctx, r.Dir, &r)
	if wantErr != nil {
		r.Err = checkError(wantErr, doc, err)
		r.Refused = nil // the document is not the point of such a case
		return r
	}
	if err != nil {
		r.Err = err
		return r
	}
	got, err := marshal(doc)
	if err != nil {
		r.Err = err
		return r
	}

	// 1. The golden document, which must itself be one the API server would take.
	expectedPath := filepath.Join(r.Dir, "expected.yaml")
	expected, err := input.ReadValue(expectedPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !update {
			r.Err = ErrNoExpected
			return r
		}
	case err != nil:
		r.Err = err
		return r
	default:
		r.Refused = append(r.Refused, s.refused(ctx, expectedPath, expected, inst)...)
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
		if r.Diff, err = documentDiff(expectedPath, expected, doc); err != nil {
			r.Err = fmt.Errorf("%s: %w", expectedPath, err)
			return r
		}
	}

	// 2. The assertions.
	assertPath := filepath.Join(r.Dir, "assert.yaml")
	data, err := input.ReadFile(assertPath)
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
// JSON value. A computed status the API server would refuse is noted in r.Refused.
func (s *Suite) document(ctx context.Context, dir string, r *Result) (any, map[string]any, error) {
	in, outside, err := s.input(dir)
	if err != nil {
		return nil, nil, err
	}
	// Render, then readiness and status: what the controller does on each reconcile.
	res, err := render.Render(ctx, s.Graph, in)
	if err != nil {
		return nil, nil, fmt.Errorf("%s, %s: %w", filepath.Join(s.Dir, "suite.yaml"), filepath.Join(dir, "config.yaml"), err)
	}
	rep, err := render.Status(ctx, s.Graph, in, res, render.StatusOptions{Now: s.Now, Errors: outside})
	if err != nil {
		return nil, nil, fmt.Errorf("status: %w", err)
	}
	if msg := s.statusRefused(ctx, in.Instance, rep.Status); msg != "" {
		r.Refused = append(r.Refused, "the computed status: "+msg)
	}
	doc, err := documentOf(res, rep)
	return doc, in.Instance, err
}

// input reads the case in dir: what the render takes, and the errors from outside the
// engine that status sees.
func (s *Suite) input(dir string) (render.Input, []string, error) {
	in := render.Input{Validate: true}
	var err error

	// 1. The instance, as the API server would store it, or serves it (stored.txt).
	instancePath := filepath.Join(dir, "instance.yaml")
	stored, err := storedReason(dir)
	if err != nil {
		return in, nil, err
	}
	if stored {
		in.Instance, err = input.StoredInstance(instancePath, s.Graph)
	} else {
		in.Instance, err = input.Instance(instancePath, s.Graph)
	}
	if err != nil {
		return in, nil, err
	}

	// 2. Config: the case's keys over the suite's.
	in.Config = map[string]any{}
	for k, v := range s.Config {
		in.Config[k] = v
	}
	if m, err := input.Config(filepath.Join(dir, "config.yaml")); err == nil {
		for k, v := range m {
			in.Config[k] = v
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return in, nil, err
	}

	// 3. Observed objects, by node id.
	in.Observed = map[string]map[string]any{}
	if observedDir := filepath.Join(dir, "observed"); exists(observedDir) {
		if in.Observed, err = input.Observed(observedDir, s.Graph); err != nil {
			return in, nil, err
		}
	}

	// 4. Errors from outside the engine.
	var outside []string
	errorsPath := filepath.Join(dir, "errors.yaml")
	if data, err := input.ReadFile(errorsPath); err == nil {
		if err := yaml.UnmarshalStrict(data, &outside); err != nil {
			return in, nil, fmt.Errorf("%s: expected a list of strings: %w", errorsPath, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return in, nil, err
	}
	return in, outside, nil
}

// documentOf is the document of a render and its status, as a JSON value.
func documentOf(res *render.Result, rep *render.Report) (any, error) {
	nodes := map[string]any{}
	objects := []any{}
	for _, n := range res.Nodes {
		if n.State == render.Rendered {
			nodes[n.ID] = string(n.State)
			for _, obj := range n.Objects() {
				objects = append(objects, obj)
			}
			continue
		}
		nodes[n.ID] = string(n.State) + ": " + n.Reason
	}
	status := rep.Status
	if status == nil {
		status = map[string]any{}
	}
	doc := map[string]any{"nodes": nodes, "objects": objects, "status": status}
	// Errors a node's reason already shows are not repeated.
	if errs := res.OtherErrors(rep.Errors...); len(errs) > 0 {
		doc["errors"] = errs
	}
	// Through JSON, so the document holds exactly the types expected.yaml decodes to.
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return input.DecodeJSON(js)
}

// exists reports whether an optional path is there; any error but its absence is left
// for the reader to report.
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// marshal prints a JSON value as YAML with sorted keys, the form expected.yaml is kept in.
func marshal(v any) ([]byte, error) {
	out, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.TrimLeft(out, "\n"), nil
}
