// Package templates owns loom's default ResourceGraphs, embedded so that the operator
// binary runs with no files around, and the one function that loads them the way the
// operator does.
//
// MCPServer (mcpserver.yaml beside this file) expands an mcpruntime.org/v1alpha1 MCPServer
// into its ServiceAccount, registry pull Secret, gateway policy ConfigMap, Deployments,
// Service and Ingress, and computes the MCPServer's status. The YAML is the documentation:
// it explains every derived value where it is computed. Its golden cases live in
// testdata/mcpserver (`loom test testdata/mcpserver`).
//
// It imports engine/graph and engine/schema (to load the graph) and config/crd (the CRDs
// that type it); never controllers or cmd:
//
//	g, err := templates.LoadMCPServer()
package templates

import (
	_ "embed"

	"github.com/loom-mcp/loom/config/crd"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/schema"
)

// MCPServerFile is the name the MCPServer graph goes by in error positions.
const MCPServerFile = "templates/mcpserver.yaml"

// MCPServer is the default ResourceGraph for MCPServers, as YAML.
//
//go:embed mcpserver.yaml
var MCPServer []byte

// MCPServerSchemas are the schemas that type the MCPServer graph: the built-in kinds of
// Kubernetes and the embedded CRDs of mcpruntime.org (MCPServer, and MCPAccessGrant and
// MCPAgentSession, which the graph reads).
func MCPServerSchemas() (*schema.Set, error) {
	set, err := schema.Builtin()
	if err != nil {
		return nil, err
	}
	for _, f := range crd.All() {
		if _, err := set.AddCRD(f.Data, f.Name); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// LoadMCPServer loads and type-checks the embedded MCPServer graph with MCPServerSchemas,
// as the operator serves it by default. opts come after the schemas (cost limits, say).
func LoadMCPServer(opts ...graph.Option) (*graph.Graph, error) {
	set, err := MCPServerSchemas()
	if err != nil {
		return nil, err
	}
	return graph.Load(MCPServerFile, MCPServer, append([]graph.Option{graph.WithSchemas(set)}, opts...)...)
}
