package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/input"
)

// Layout describes a suite directory; `loom test --help` prints it.
const Layout = `DIR/suite.yaml                  graph: <path, relative to DIR>          (required)
                                crds: [<path, relative to DIR>, ...]    the instance's CRD, and any other custom kind
                                config: {<key>: <value>}                defaults for every case
                                now: <RFC3339>                          the clock that stamps lastTransitionTime
                                                                        (default 2026-01-01T00:00:00Z)
DIR/<case>/instance.yaml        the instance; CRD defaults are applied and it is validated, as the
                                API server would; metadata.namespace defaults to "default"
DIR/<case>/stored.txt           optional: why the instance is one the API server stored under an
                                older CRD and serves without admitting it again: then only its
                                structure is validated, not its values or rules
DIR/<case>/config.yaml          optional: {<key>: <value>}, merged over the suite's config
DIR/<case>/observed/<id>.yaml   optional: the object last observed for node <id> (apiVersion and
                                kind may be left out); for a read, the object read by name, or a
                                List (kind: List, items: [...]) of a collection's candidates;
                                for a resource with forEach, a List of its objects
DIR/<case>/errors.yaml          optional: a list of strings, errors from outside the engine such as
                                an apply the API server refused (render.StatusOptions.Errors)
DIR/<case>/expected.yaml        golden: the document the case produces, rewritten by -update;
                                its objects and status must pass what the API server checks
DIR/<case>/expected-error.txt   instead of expected.yaml: the case must fail, with an error (a
                                refused instance, a node in Error, a render error) that contains
                                each line of this file
DIR/<case>/assert.yaml          optional: a kyverno-json assertion tree the document must satisfy

Every subdirectory of DIR is a case, except those whose names start with "." or "_".

The document, compared with expected.yaml as a JSON value (not as text):
  nodes:   {<id>: "<State>" or "<State>: <reason>"}   State: Rendered, Waiting, Skipped or Error
  objects: [the desired objects, in the graph's order, each checked as the API server would
           check it: its kind's schema, and for a CRD kind its patterns, enums, bounds, formats
           and CEL rules; an object it would refuse puts its node in Error]
  status:  {the instance's status, checked against the instance's CRD}
  errors:  [render and status errors no node's reason shows]   only when there are some

assert.yaml keys may be expressions over the value at their place: (length(objects)) is JMESPath,
(cel;object.spec.replicas > 1) is CEL with that value as object.`

// DefaultNow is the suite clock when suite.yaml gives none.
var DefaultNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Suite is a loaded suite directory: the graph and CRDs are loaded once and shared by every
// case.
type Suite struct {
	Dir   string
	Graph *graph.Graph
	// Config is the suite's config; each case merges its own over it.
	Config map[string]any
	Now    time.Time
}

// suiteFile is suite.yaml. Config is decoded apart so that its integers stay int64.
// SuiteSchema describes it from these fields and their doc tags.
type suiteFile struct {
	Graph  string          `json:"graph" doc:"The ResourceGraph file, relative to the suite's directory." required:"true"`
	CRDs   []string        `json:"crds" doc:"The CRD files that type the instance and any other custom kind, relative to the suite's directory."`
	Config json.RawMessage `json:"config" doc:"The operator configuration every case starts from; a case's config.yaml is merged over it."`
	Now    string          `json:"now" doc:"The clock that stamps lastTransitionTime, RFC 3339 (default 2026-01-01T00:00:00Z)." format:"date-time"`
}

// Load reads DIR/suite.yaml and loads its CRDs and graph.
func Load(dir string) (*Suite, error) {
	path := filepath.Join(dir, "suite.yaml")
	data, err := input.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sf suiteFile
	if err := yaml.UnmarshalStrict(data, &sf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if sf.Graph == "" {
		return nil, fmt.Errorf("%s: graph: the path of the graph, relative to %s, is required", path, dir)
	}
	s := &Suite{Dir: dir, Now: DefaultNow}
	if sf.Now != "" {
		if s.Now, err = time.Parse(time.RFC3339, sf.Now); err != nil {
			return nil, fmt.Errorf("%s: now: %w", path, err)
		}
	}
	if s.Config, err = decodeMap(sf.Config); err != nil {
		return nil, fmt.Errorf("%s: config: %w", path, err)
	}

	crds := make([]string, len(sf.CRDs))
	for i, c := range sf.CRDs {
		crds[i] = relativeTo(dir, c)
	}
	schemas, err := input.Schemas(crds...)
	if err != nil {
		return nil, fmt.Errorf("%s: crds: %w", path, err)
	}
	graphPath := relativeTo(dir, sf.Graph)
	data, err = input.ReadFile(graphPath)
	if err != nil {
		return nil, fmt.Errorf("%s: graph: %w", path, err)
	}
	// The graph is named as suite.yaml names it, so the positions in reasons that land in
	// expected.yaml do not depend on the directory loom test runs from.
	if s.Graph, err = graph.Load(filepath.ToSlash(sf.Graph), data, graph.WithSchemas(schemas)); err != nil {
		return nil, fmt.Errorf("%s: loading %s (positions are relative to %s):\n%w", path, graphPath, dir, err)
	}
	return s, nil
}

// Cases lists the suite's case names, sorted.
func (s *Suite) Cases() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), "_") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Options configure Run.
type Options struct {
	// Update rewrites each case's expected.yaml with the document it produced.
	Update bool
	// Match, when set, selects the cases whose names it matches.
	Match *regexp.Regexp
}

// Run loads the suite in dir and runs its cases in name order. The error is for a suite
// that cannot be loaded; a failing case is a Result.
func Run(ctx context.Context, dir string, opts Options) ([]Result, error) {
	s, err := Load(dir)
	if err != nil {
		return nil, err
	}
	names, err := s.Cases()
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, name := range names {
		if opts.Match != nil && !opts.Match.MatchString(name) {
			continue
		}
		out = append(out, s.Run(ctx, name, opts.Update))
	}
	if len(out) == 0 && opts.Match == nil {
		return nil, fmt.Errorf("%s: no cases: each case is a subdirectory holding instance.yaml", dir)
	}
	return out, nil
}

// relativeTo resolves a path written in suite.yaml.
func relativeTo(dir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// decodeMap decodes a JSON object (or nothing) with int64 integers.
func decodeMap(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 {
		return map[string]any{}, nil
	}
	v, err := input.DecodeJSON(raw)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("expected a map of keys to values")
	}
	return m, nil
}
