// Package templates holds loom's default ResourceGraphs, embedded so that the operator
// binary runs with no files around.
//
// MCPServer (mcpserver.yaml beside this file) expands an mcpruntime.org/v1alpha1 MCPServer
// into its ServiceAccount, registry pull Secret, gateway policy ConfigMap, Deployments,
// Service and Ingress, and computes the MCPServer's status. The YAML is the documentation:
// it explains every derived value where it is computed. Its golden cases live in
// testdata/mcpserver (`loom test testdata/mcpserver`).
//
// This package imports nothing; load the graph with engine/graph, typed by the CRDs that
// config/crd embeds (MCPServer, and MCPAccessGrant and MCPAgentSession, which it reads):
//
//	set, _ := schema.Builtin()
//	for _, f := range crd.All() {
//		set.AddCRD(f.Data, f.Name)
//	}
//	g, err := graph.Load(templates.MCPServerFile, templates.MCPServer, graph.WithSchemas(set))
package templates

import _ "embed"

// MCPServerFile is the name the MCPServer graph goes by in error positions.
const MCPServerFile = "templates/mcpserver.yaml"

// MCPServer is the default ResourceGraph for MCPServers, as YAML.
//
//go:embed mcpserver.yaml
var MCPServer []byte
