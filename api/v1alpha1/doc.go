// Package v1alpha1 owns the Go types of the MCPServer API (group mcpruntime.org,
// version v1alpha1), the API of the MCP Runtime operator that loom serves unchanged. It
// may import only k8s.io/apimachinery; nothing of loom.
//
// The types exist to generate the CRD (config/crd) and deepcopy code; the reconcile
// path reads MCPServers through the CRD schema, not these structs. Static rules
// (required fields, enums, unconditional defaults, cross-field CEL rules) live here as
// kubebuilder markers so the API server enforces them at admission: only rules MCP
// Runtime's admission has too (and the name rule), so every manifest it admits applies;
// a spec that cannot work is the default graph's checks' business. Values that depend
// on other fields or on operator configuration (imageTag, ingressPath, ingressHost,
// resources, gateway.upstreamURL, analytics.source/ingestURL) are derived by the
// default ResourceGraph template, never defaulted in the CRD.
//
// +kubebuilder:object:generate=true
// +groupName=mcpruntime.org
package v1alpha1
