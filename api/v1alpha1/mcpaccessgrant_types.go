package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// MCPAccessGrant lets a subject (a human, an agent, a team) use an MCPServer up to a trust
// ceiling. Every grant that names a server, from any namespace, goes into that server's
// gateway policy; a disabled grant stays there with its flag.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mcpgrant
// +kubebuilder:printcolumn:name="Server",type=string,JSONPath=`.spec.serverRef.name`
// +kubebuilder:printcolumn:name="Human",type=string,JSONPath=`.spec.subject.humanID`
// +kubebuilder:printcolumn:name="Agent",type=string,JSONPath=`.spec.subject.agentID`
// +kubebuilder:printcolumn:name="Team",type=string,JSONPath=`.spec.subject.teamID`
// +kubebuilder:printcolumn:name="Trust",type=string,JSONPath=`.spec.maxTrust`
// +kubebuilder:printcolumn:name="Disabled",type=boolean,JSONPath=`.spec.disabled`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MCPAccessGrant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec MCPAccessGrantSpec `json:"spec"`
	// +optional
	Status AccessStatus `json:"status,omitempty"`
}

// MCPAccessGrantList is a list of MCPAccessGrant.
// +kubebuilder:object:root=true
type MCPAccessGrantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MCPAccessGrant `json:"items"`
}

// MCPAccessGrantSpec says who may use which server, with what trust and side effects.
type MCPAccessGrantSpec struct {
	// +required
	ServerRef ServerRef `json:"serverRef"`
	// Subject is who the grant is for; an empty subject matches any authenticated caller.
	// +optional
	Subject Subject `json:"subject,omitempty"`
	// MaxTrust is the highest trust the subject may act with; low when unset.
	// +optional
	MaxTrust TrustLevel `json:"maxTrust,omitempty"`
	// AllowedSideEffects lists the tool side effects the subject may cause.
	// +listType=set
	// +optional
	AllowedSideEffects []SideEffect `json:"allowedSideEffects,omitempty"`
	// +optional
	PolicyVersion string `json:"policyVersion,omitempty"`
	// Disabled keeps the grant in the policy, marked, instead of deleting it.
	// +optional
	Disabled bool `json:"disabled,omitempty"`
	// ExpiresAt is accepted for compatibility with MCP Runtime manifests; the gateway
	// policy does not carry it.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
	// ToolRules allow or deny single tools, keyed by tool name.
	// +listType=map
	// +listMapKey=name
	// +optional
	ToolRules []ToolRule `json:"toolRules,omitempty"`
}

// ToolRule allows or denies one tool, optionally above a trust level.
type ToolRule struct {
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +required
	Decision Decision `json:"decision"`
	// RequiredTrust is the trust the call needs; low when unset.
	// +optional
	RequiredTrust TrustLevel `json:"requiredTrust,omitempty"`
}
