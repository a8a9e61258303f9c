package main

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/input"
	"github.com/loom-mcp/loom/templates"
)

// servedGraph is the graph of the commands that work with a cluster's instances (operator,
// diff, rbac): --graph with the --crd files that type its custom kinds, or the embedded
// MCPServer graph typed by the embedded CRDs.
type servedGraph struct {
	path string
	crds []string
}

func (s *servedGraph) bind(fl *pflag.FlagSet) {
	fl.StringVar(&s.path, "graph", "", "a ResourceGraph file (default: the embedded MCPServer graph)")
	fl.StringArrayVar(&s.crds, "crd", nil, "a CRD file typing a custom kind --graph uses: its instance, or a kind it renders or reads (repeatable)")
}

func (s servedGraph) load() (*graph.Graph, error) {
	if s.path != "" {
		return input.Graph(s.path, s.path, s.crds...)
	}
	return templates.LoadMCPServer()
}

// fleetFlags are the flags of the commands that work through every instance of a cluster
// (operator, diff): the graph, its configuration, and how many instances at once and how
// fast.
type fleetFlags struct {
	servedGraph
	clientRate
	set         []string
	concurrency int
}

// bind adds the flags; doing says what happens to an instance ("reconciled").
func (f *fleetFlags) bind(fl *pflag.FlagSet, doing string) {
	f.servedGraph.bind(fl)
	f.clientRate.bind(fl)
	fl.StringArrayVar(&f.set, "set", nil, "a configuration value KEY=VALUE, over the environment (repeatable)")
	fl.IntVar(&f.concurrency, "concurrency", 16, "instances "+doing+" at once")
}

// load is the graph and its configuration: the environment variables the graph declares,
// then --set.
func (f fleetFlags) load() (*graph.Graph, map[string]any, error) {
	g, err := f.servedGraph.load()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := g.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	cfg, err = setConfig(g, cfg, f.set)
	return g, cfg, err
}

// clientRate is how fast a command may send requests to the API server. The defaults are
// sized for thousands of instances: a fleet's first convergence is a burst of applies.
type clientRate struct {
	qps   float32
	burst int
}

func (r *clientRate) bind(fl *pflag.FlagSet) {
	fl.Float32Var(&r.qps, "kube-api-qps", 200, "client requests per second to the API server")
	fl.IntVar(&r.burst, "kube-api-burst", 400, "client request burst")
}
