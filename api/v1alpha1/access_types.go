package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ServerRef names an MCPServer; the namespace defaults to the referring object's own.
type ServerRef struct {
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// Subject identifies a caller: a human, an agent, a team, or a combination. A subject
// without teamID takes the server's teamID in the policy.
type Subject struct {
	// +optional
	HumanID string `json:"humanID,omitempty"`
	// +optional
	AgentID string `json:"agentID,omitempty"`
	// TeamID follows MCP Runtime's rule for team IDs, as spec.teamID of an MCPServer does:
	// no space, tab or line break and at most 128 characters, unless it is blank.
	// +kubebuilder:validation:XValidation:rule="self.trim().size() == 0 || !self.matches('[ \\t\\r\\n]')",message="subject.teamID must be a stable identifier without whitespace (spaces, tabs or line breaks)"
	// +kubebuilder:validation:XValidation:rule="self.trim().size() == 0 || self.size() <= 128",message="subject.teamID must be at most 128 characters"
	// +optional
	TeamID string `json:"teamID,omitempty"`
}

// AccessStatus is the status of a grant or session. loom does not write it: what takes
// effect is the server's policy.
type AccessStatus struct {
	// +optional
	Phase string `json:"phase,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
