// Package crd owns the CustomResourceDefinitions that `make generate` writes from
// api/v1alpha1 (MCPServer, MCPAccessGrant, MCPAgentSession), embedded so the operator can
// type its default graph (and the CLI its renders) with no files around. It may import
// nothing but embed.
package crd

import _ "embed"

// MCPServerFile is the name the MCPServer CRD goes by in error messages.
const MCPServerFile = "config/crd/mcpruntime.org_mcpservers.yaml"

// MCPServer is the mcpservers.mcpruntime.org CustomResourceDefinition, as YAML.
//
//go:embed mcpruntime.org_mcpservers.yaml
var MCPServer []byte

// MCPAccessGrantFile and MCPAgentSessionFile name the other two CRDs in error messages.
const (
	MCPAccessGrantFile  = "config/crd/mcpruntime.org_mcpaccessgrants.yaml"
	MCPAgentSessionFile = "config/crd/mcpruntime.org_mcpagentsessions.yaml"
)

// MCPAccessGrant is the mcpaccessgrants.mcpruntime.org CustomResourceDefinition, as YAML.
//
//go:embed mcpruntime.org_mcpaccessgrants.yaml
var MCPAccessGrant []byte

// MCPAgentSession is the mcpagentsessions.mcpruntime.org CustomResourceDefinition, as YAML.
//
//go:embed mcpruntime.org_mcpagentsessions.yaml
var MCPAgentSession []byte
