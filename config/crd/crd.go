// Package crd embeds the MCPServer CustomResourceDefinition that `make generate` writes
// from api/v1alpha1, so the operator can type its default graph (and the CLI its renders)
// with no files around. It imports nothing.
package crd

import _ "embed"

// MCPServerFile is the name the CRD goes by in error messages.
const MCPServerFile = "config/crd/mcpruntime.org_mcpservers.yaml"

// MCPServer is the mcpservers.mcpruntime.org CustomResourceDefinition, as YAML.
//
//go:embed mcpruntime.org_mcpservers.yaml
var MCPServer []byte
