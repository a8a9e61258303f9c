package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/loom-mcp/loom/engine/cases"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/schema"
)

// loadGraph loads a graph typed by the built-in kinds plus the given CRD files.
func loadGraph(path string, crds []string) (*graph.Graph, *schema.Set, error) {
	set, err := schema.Builtin()
	if err != nil {
		return nil, nil, err
	}
	for _, c := range crds {
		data, err := os.ReadFile(c)
		if err != nil {
			return nil, nil, err
		}
		if _, err := set.AddCRD(data, c); err != nil {
			return nil, nil, err
		}
	}
	g, err := graph.LoadFile(path, graph.WithSchemas(set))
	if err != nil {
		return nil, nil, err
	}
	return g, set, nil
}

// readObject reads one YAML or JSON object; integers stay int64.
func readObject(path string) (map[string]any, error) {
	v, err := cases.ReadValue(path)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected an object", path)
	}
	return obj, nil
}

// readObserved reads DIR/<id>.yaml files into observed objects by node id.
func readObserved(dir string, g *graph.Graph) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	if dir == "" {
		return out, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		id := strings.TrimSuffix(e.Name(), ext)
		_, isRead := g.Read(id) // a read: the object, or a List for a collection
		if _, ok := g.Node(id); !ok && !isRead {
			return nil, fmt.Errorf("%s: the graph has no resource %q (observed files are named <id>.yaml)", filepath.Join(dir, e.Name()), id)
		}
		obj, err := readObject(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[id] = obj
	}
	return out, nil
}
