// Package templates owns loom's default ResourceGraphs, embedded so that the operator
// binary runs with no files around, and the one function that loads them the way the
// operator does.
//
// MCPServer (mcpserver.yaml beside this file) expands an mcpruntime.org/v1alpha1 MCPServer
// into its ServiceAccount, registry pull Secret, gateway policy ConfigMap, Deployments,
// Service and Ingress (for auth.mode mtls: cert-manager Certificates, a CA Secret, a
// NetworkPolicy and Traefik routing objects instead of the Ingress), and computes the
// MCPServer's status. The YAML is the documentation:
// it explains every derived value where it is computed. Its golden cases live in
// testdata/mcpserver (`loom test testdata/mcpserver`).
//
// It imports engine/graph and engine/schema (to load the graph) and config/crd (the CRDs
// that type it); never controllers or cmd:
//
//	g, err := templates.LoadMCPServer()
package templates

import (
	"embed"
	"io/fs"

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

// thirdParty holds the pinned CRDs of cert-manager and Traefik (crds/SOURCES.md says where
// each comes from; `make thirdparty-crds` fetches them again). The graph renders their
// kinds for auth.mode mtls, so they type it like any other kind: a template that does not
// fit a Certificate or an IngressRoute is a load error, not an object the API server
// refuses later.
//
//go:embed crds/*.yaml
var thirdParty embed.FS

// ThirdPartyCRDs returns the embedded cert-manager and Traefik CRDs, sorted by file name,
// each named by its path in the repository: what a cluster needs installed for the graph's
// auth.mode mtls objects (tests install them on the local control plane).
func ThirdPartyCRDs() ([]crd.File, error) {
	names, err := fs.Glob(thirdParty, "crds/*.yaml") // sorted
	if err != nil {
		return nil, err
	}
	files := make([]crd.File, 0, len(names))
	for _, name := range names {
		data, err := thirdParty.ReadFile(name)
		if err != nil {
			return nil, err
		}
		files = append(files, crd.File{Name: "templates/" + name, Data: data})
	}
	return files, nil
}

// MCPServerSchemas are the schemas that type the MCPServer graph: the built-in kinds of
// Kubernetes, the embedded CRDs of mcpruntime.org (MCPServer, and MCPAccessGrant and
// MCPAgentSession, which the graph reads) and ThirdPartyCRDs.
func MCPServerSchemas() (*schema.Set, error) {
	set, err := schema.Builtin()
	if err != nil {
		return nil, err
	}
	third, err := ThirdPartyCRDs()
	if err != nil {
		return nil, err
	}
	for _, f := range append(crd.All(), third...) {
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
