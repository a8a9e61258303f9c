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

// MCPAgentSession records an agent session a human consented to: the trust consented,
// when it ends, and where the upstream token is kept. Every session that names a server,
// from any namespace, goes into that server's gateway policy; a revoked session stays
// there with its flag.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mcpsession
// +kubebuilder:printcolumn:name="Server",type=string,JSONPath=`.spec.serverRef.name`
// +kubebuilder:printcolumn:name="Human",type=string,JSONPath=`.spec.subject.humanID`
// +kubebuilder:printcolumn:name="Agent",type=string,JSONPath=`.spec.subject.agentID`
// +kubebuilder:printcolumn:name="Team",type=string,JSONPath=`.spec.subject.teamID`
// +kubebuilder:printcolumn:name="Consent",type=string,JSONPath=`.spec.consentedTrust`
// +kubebuilder:printcolumn:name="Revoked",type=boolean,JSONPath=`.spec.revoked`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.spec.expiresAt`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MCPAgentSession struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec MCPAgentSessionSpec `json:"spec"`
	// +optional
	Status AccessStatus `json:"status,omitempty"`
}

// MCPAgentSessionList is a list of MCPAgentSession.
// +kubebuilder:object:root=true
type MCPAgentSessionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MCPAgentSession `json:"items"`
}

// MCPAgentSessionSpec is one consented agent session.
// +kubebuilder:validation:XValidation:rule="(has(self.subject.humanID) && self.subject.humanID.size() > 0) || (has(self.subject.agentID) && self.subject.agentID.size() > 0) || (has(self.subject.teamID) && self.subject.teamID.size() > 0)",message="one of subject.humanID, subject.agentID or subject.teamID is required",fieldPath=".subject"
type MCPAgentSessionSpec struct {
	// +required
	ServerRef ServerRef `json:"serverRef"`
	// +required
	Subject Subject `json:"subject"`
	// ConsentedTrust is the trust the human consented to; low when unset.
	// +optional
	ConsentedTrust TrustLevel `json:"consentedTrust,omitempty"`
	// ExpiresAt ends the session (RFC 3339).
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
	// Revoked keeps the session in the policy, marked, instead of deleting it.
	// +optional
	Revoked bool `json:"revoked,omitempty"`
	// UpstreamTokenSecretRef names the Secret key that holds the upstream token.
	// +optional
	UpstreamTokenSecretRef *SecretKeyRef `json:"upstreamTokenSecretRef,omitempty"`
	// +optional
	PolicyVersion string `json:"policyVersion,omitempty"`
}

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
