// Package policy owns the opt-in ValidatingAdmissionPolicy for MCPServers (policy.yaml,
// binding.yaml, params.yaml; `kubectl apply -k config/policy`): which Secrets, ingress
// annotation keys and hosts a server's author may reference. It holds no Go code; its test
// applies the YAML to a real API server and may import the embedded CRDs (config/crd), the
// local control plane (internal/controlplane) and client-go. Nothing imports it.
package policy
