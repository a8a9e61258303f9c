// Package crd owns the MCPServer CustomResourceDefinition, embedded: `make generate` writes
// it from api/v1alpha1, and the operator types its default graph with it (and the CLI its
// renders) with no files around. It may import nothing but embed.
package crd

import _ "embed"

// MCPServerFile is the name the CRD goes by in error messages.
const MCPServerFile = "config/crd/mcpruntime.org_mcpservers.yaml"

// MCPServer is the mcpservers.mcpruntime.org CustomResourceDefinition, as YAML.
//
//go:embed mcpruntime.org_mcpservers.yaml
var MCPServer []byte
