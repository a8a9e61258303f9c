package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
