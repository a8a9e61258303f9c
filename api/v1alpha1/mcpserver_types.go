package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// MCPServer runs one MCP server: a Deployment (optionally with the mcp-gateway sidecar
// and a canary track), a Service and an Ingress, all owned by this object.
//
// The name becomes the Service, Deployment and `app` label, so it must be a DNS-1035
// label; MCP Runtime accepted other names and then failed to create the Service.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mcps
// +kubebuilder:printcolumn:name="Team",type=string,JSONPath=`.spec.teamID`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1035 label (at most 63 lowercase letters, digits or '-', starting with a letter): it names the Service"
type MCPServer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec MCPServerSpec `json:"spec"`
	// +optional
	Status MCPServerStatus `json:"status,omitempty"`
}

// MCPServerList is a list of MCPServers.
//
// +kubebuilder:object:root=true
type MCPServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MCPServer `json:"items"`
}

// MCPServerSpec is the desired state of an MCP server. Field names and defaults are
// those of MCP Runtime's MCPServer, so existing manifests apply unchanged.
//
// Admission rejects only what MCP Runtime's CRD and admission webhooks reject too; a spec
// that passes but cannot work is refused by the default graph's checks instead, in the
// status (phase Error, the field, the fix). Rules that span fields sit here because CEL can
// only see a rule's own subtree. A port of 0 means the default port, as in MCP Runtime.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.gateway) && has(self.gateway.enabled) && self.gateway.enabled) || (has(self.gateway.port) && self.gateway.port != 0 ? self.gateway.port : 8091) != (has(self.port) && self.port != 0 ? self.port : 8088)",message="gateway.port must differ from spec.port when the gateway is enabled: both containers share the pod's network",fieldPath=".gateway.port"
// +kubebuilder:validation:XValidation:rule="!(has(self.gateway) && has(self.gateway.enabled) && self.gateway.enabled) || !has(self.auth) || !has(self.auth.mode) || self.auth.mode != 'oauth' || (has(self.auth.issuerURL) && self.auth.issuerURL.trim().size() > 0)",message="auth.issuerURL is required when auth.mode is oauth and the gateway is enabled: the gateway validates tokens against it",fieldPath=".auth.issuerURL",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="!has(self.rollout) || self.rollout.strategy != 'Canary' || (has(self.rollout.canaryReplicas) && self.rollout.canaryReplicas > 0)",message="rollout.canaryReplicas must be greater than 0 when rollout.strategy is Canary",fieldPath=".rollout.canaryReplicas"
// +kubebuilder:validation:XValidation:rule="!has(self.rollout) || self.rollout.strategy != 'Canary' || !has(self.rollout.canaryReplicas) || self.rollout.canaryReplicas < self.replicas",message="rollout.canaryReplicas must be less than spec.replicas when rollout.strategy is Canary: the stable track keeps replicas - canaryReplicas",fieldPath=".rollout.canaryReplicas"
type MCPServerSpec struct {
	// TeamID identifies the owning platform team; it is rendered into gateway policy
	// and analytics events, where whitespace would break header and label matching. A
	// teamID of whitespace only counts as unset.
	// +kubebuilder:validation:XValidation:rule="self.trim().size() == 0 || !self.matches('[ \\t\\r\\n]')",message="teamID must not contain spaces, tabs or line breaks"
	// +kubebuilder:validation:XValidation:rule="self.trim().size() == 0 || self.size() <= 128",message="teamID must be at most 128 characters"
	// +optional
	TeamID string `json:"teamID,omitempty"`

	// Description is a human-readable summary of what the server provides.
	// +optional
	Description string `json:"description,omitempty"`

	// Image is the server's container image. Without a tag or digest, imageTag is
	// appended; registryOverride / useProvisionedRegistry may replace its registry.
	// +required
	// +kubebuilder:validation:MinLength=1
	Image string `json:"image"`

	// ImageTag is appended to image when image has neither tag nor digest; the
	// template uses "latest" then. Not defaulted here because it is ignored otherwise.
	// +optional
	ImageTag string `json:"imageTag,omitempty"`

	// RegistryOverride replaces the registry of image (or prefixes a bare image name).
	// +optional
	RegistryOverride string `json:"registryOverride,omitempty"`

	// UseProvisionedRegistry pulls the image from the operator's provisioned registry
	// (PROVISIONED_REGISTRY_URL, else MCP_REGISTRY_PULL_HOST when registryOverride is empty).
	// +optional
	UseProvisionedRegistry bool `json:"useProvisionedRegistry,omitempty"`

	// ImagePullSecrets names Secrets in the server's namespace used to pull images.
	// When empty, the operator's provisioned-registry Secret is used if configured.
	// +optional
	ImagePullSecrets []string `json:"imagePullSecrets,omitempty"`

	// Replicas is the total number of server pods (stable plus canary); below 0 runs
	// none, as in MCP Runtime.
	// +kubebuilder:default=1
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// Port is the container port the server listens on (named `http`); 0 means 8088.
	// +kubebuilder:default=8088
	// +optional
	Port int32 `json:"port,omitempty"`

	// ServicePort is the port the Service exposes; the Ingress backend uses it. 0 means 80.
	// +kubebuilder:default=80
	// +optional
	ServicePort int32 `json:"servicePort,omitempty"`

	// IngressPath is the route path; `/<name>/mcp` when neither it nor
	// publicPathPrefix is set. publicPathPrefix takes precedence.
	// +optional
	IngressPath string `json:"ingressPath,omitempty"`

	// IngressHost is the route host. When both it and publicPathPrefix are unset the
	// operator's MCP_DEFAULT_INGRESS_HOST is used.
	// +optional
	IngressHost string `json:"ingressHost,omitempty"`

	// PublicPathPrefix routes the server at `/<publicPathPrefix>/mcp`, under
	// ingressHost when set, otherwise hostless.
	// +kubebuilder:validation:XValidation:rule="self.size() == 0 || self.matches('[^/]')",message="publicPathPrefix must contain a character other than '/'"
	// +optional
	PublicPathPrefix string `json:"publicPathPrefix,omitempty"`

	// IngressClass selects the ingress controller and its default annotations
	// (traefik, nginx, istio, or any other class).
	// +kubebuilder:default=traefik
	// +optional
	IngressClass string `json:"ingressClass,omitempty"`

	// IngressAnnotations are added to the Ingress; a key set here wins over the
	// class's default annotation with the same key.
	// +optional
	IngressAnnotations map[string]string `json:"ingressAnnotations,omitempty"`

	// Resources of the server container. Each of the four values is defaulted on its
	// own by the template (requests 50m/64Mi, limits 500m/256Mi).
	// +optional
	Resources *ResourceRequirements `json:"resources,omitempty"`

	// EnvVars are literal environment variables of the server container.
	// +optional
	EnvVars []EnvVar `json:"envVars,omitempty"`

	// SecretEnvVars are environment variables read from Secret keys, rendered after envVars.
	// +optional
	SecretEnvVars []SecretEnvVar `json:"secretEnvVars,omitempty"`

	// Tools is the server's tool inventory; the gateway policy is rendered from it.
	// Names are unique because the policy is keyed by tool name.
	// +listType=map
	// +listMapKey=name
	// +optional
	Tools []Tool `json:"tools,omitempty"`

	// Prompts is the server's prompt inventory.
	// +optional
	Prompts []InventoryItem `json:"prompts,omitempty"`

	// MCPResources is the server's MCP resource inventory.
	// +optional
	MCPResources []InventoryItem `json:"mcpResources,omitempty"`

	// Tasks is the server's task inventory.
	// +optional
	Tasks []InventoryItem `json:"tasks,omitempty"`

	// Auth tells the gateway how callers are identified.
	// +optional
	Auth *AuthSpec `json:"auth,omitempty"`

	// Policy configures the gateway's authorization decisions.
	// +optional
	Policy *PolicySpec `json:"policy,omitempty"`

	// Session configures agent sessions at the gateway.
	// +optional
	Session *SessionSpec `json:"session,omitempty"`

	// Gateway adds the mcp-gateway sidecar in front of the server container.
	// +optional
	Gateway *GatewaySpec `json:"gateway,omitempty"`

	// Analytics configures the gateway's event emission; it has effect only with the
	// gateway enabled.
	// +optional
	Analytics *AnalyticsSpec `json:"analytics,omitempty"`

	// Rollout selects how new versions replace old pods.
	// +optional
	Rollout *RolloutSpec `json:"rollout,omitempty"`
}

// ResourceRequirements are the CPU and memory limits and requests of one container.
type ResourceRequirements struct {
	// +optional
	Limits *ResourceList `json:"limits,omitempty"`
	// +optional
	Requests *ResourceList `json:"requests,omitempty"`
}

// ResourceList holds CPU and memory as Kubernetes quantity strings. The default graph
// checks them: a typo ("500 m") is phase Error naming the field, not a failed Deployment.
type ResourceList struct {
	// +optional
	CPU string `json:"cpu,omitempty"`
	// +optional
	Memory string `json:"memory,omitempty"`
}

// EnvVar is a literal environment variable.
type EnvVar struct {
	// +required
	Name string `json:"name"`
	// +optional
	Value string `json:"value,omitempty"`
}

// SecretEnvVar is an environment variable whose value comes from a Secret key.
type SecretEnvVar struct {
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +required
	SecretKeyRef SecretKeyRef `json:"secretKeyRef"`
}

// SecretKeyRef selects one key of a Secret in the server's namespace.
type SecretKeyRef struct {
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +required
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// AnalyticsKeyRef selects the Secret key of the analytics API key. Its name and key may be
// empty while analytics is disabled (AnalyticsSpec checks them otherwise), as in MCP
// Runtime.
type AnalyticsKeyRef struct {
	// +required
	Name string `json:"name"`
	// +required
	Key string `json:"key"`
}

// TrustLevel is the trust a caller needs (or a tool requires). Grants and sessions use it
// as it is; a tool's requiredTrust also takes "" (see Tool).
// +kubebuilder:validation:Enum=low;medium;high
type TrustLevel string

// SideEffect says what calling a tool may change.
// +kubebuilder:validation:Enum=read;write;destructive
type SideEffect string

// RiskLevel is an informational risk rating of a tool, carried into the policy.
// +kubebuilder:validation:Enum=low;medium;high
type RiskLevel string

// Tool is one tool of the server's inventory.
type Tool struct {
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	Description string `json:"description,omitempty"`
	// RequiredTrust is the trust a caller needs to call the tool: low, medium or high; an
	// empty value is low, as MCP Runtime's defaulting webhook fills it in before its CRD
	// checks the enum.
	// +kubebuilder:default=low
	// +kubebuilder:validation:Enum=low;medium;high;""
	// +optional
	RequiredTrust string `json:"requiredTrust,omitempty"`
	// SideEffect is required: the policy must never guess whether a tool writes.
	// +required
	SideEffect SideEffect `json:"sideEffect"`
	// +optional
	RiskLevel RiskLevel `json:"riskLevel,omitempty"`
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// InventoryItem is one prompt, MCP resource or task of the server's inventory.
type InventoryItem struct {
	// +required
	Name string `json:"name"`
	// +optional
	Description string `json:"description,omitempty"`
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// AuthMode is how the gateway identifies callers: none, header, oauth or mtls. An empty
// value is the default (header), as MCP Runtime's defaulting webhook fills it in before its
// CRD's enum is checked.
//
// +kubebuilder:validation:XValidation:rule="self.size() == 0 || self in ['none', 'header', 'oauth', 'mtls']",message="must be none, header, oauth or mtls"
type AuthMode string

// AuthSpec configures caller identity at the gateway. The header names are plain
// defaults so a policy file never carries an empty header name. With mode oauth the
// issuerURL is required only when the gateway is enabled (a rule of MCPServerSpec, which
// sees the gateway); without the gateway oauth only adds the Ingress path of the
// protected-resource metadata.
//
// +kubebuilder:validation:XValidation:rule="!has(self.mode) || self.mode != 'mtls' || (has(self.trustDomain) && self.trustDomain.trim().size() > 0)",message="auth.trustDomain is required when auth.mode is mtls",fieldPath=".trustDomain",reason="FieldValueRequired"
type AuthSpec struct {
	// +kubebuilder:default=header
	// +optional
	Mode AuthMode `json:"mode,omitempty"`
	// +kubebuilder:default=X-MCP-Human-ID
	// +optional
	HumanIDHeader string `json:"humanIDHeader,omitempty"`
	// +kubebuilder:default=X-MCP-Agent-ID
	// +optional
	AgentIDHeader string `json:"agentIDHeader,omitempty"`
	// +kubebuilder:default=X-MCP-Team-ID
	// +optional
	TeamIDHeader string `json:"teamIDHeader,omitempty"`
	// +kubebuilder:default=X-MCP-Agent-Session
	// +optional
	SessionIDHeader string `json:"sessionIDHeader,omitempty"`
	// +kubebuilder:default=Authorization
	// +optional
	TokenHeader string `json:"tokenHeader,omitempty"`
	// IssuerURL is the OAuth issuer; required with mode oauth when the gateway is enabled.
	// +optional
	IssuerURL string `json:"issuerURL,omitempty"`
	// +optional
	Audience string `json:"audience,omitempty"`
	// TrustDomain is the SPIFFE trust domain of client certificates; required with mode mtls.
	// +optional
	TrustDomain string `json:"trustDomain,omitempty"`
}

// PolicyMode is whether the gateway enforces or only records decisions: allow-list or
// observe. A blank value is the default (allow-list), as MCP Runtime's defaulting webhook
// fills it in before its CRD's enum is checked.
//
// +kubebuilder:validation:XValidation:rule="self.trim().size() == 0 || self in ['allow-list', 'observe']",message="must be allow-list or observe"
type PolicyMode string

// Decision is the gateway's answer to a call: allow or deny. A grant's tool rule uses it as
// it is; policy.defaultDecision also takes a blank value (see PolicySpec).
// +kubebuilder:validation:Enum=allow;deny
type Decision string

// PolicySpec configures authorization at the gateway.
type PolicySpec struct {
	// +kubebuilder:default=allow-list
	// +optional
	Mode PolicyMode `json:"mode,omitempty"`
	// DefaultDecision is the answer when no rule matches: allow or deny; a blank value is
	// deny, as MCP Runtime's defaulting webhook fills it in before its CRD checks the enum.
	// +kubebuilder:default=deny
	// +kubebuilder:validation:XValidation:rule="self.trim().size() == 0 || self in ['allow', 'deny']",message="must be allow or deny"
	// +optional
	DefaultDecision string `json:"defaultDecision,omitempty"`
	// EnforceOn names the MCP operation the policy is evaluated on. It is one string,
	// as in MCP Runtime manifests and the policy file's enforce_on.
	// +kubebuilder:default=call_tool
	// +optional
	EnforceOn string `json:"enforceOn,omitempty"`
	// +kubebuilder:default=v1
	// +optional
	PolicyVersion string `json:"policyVersion,omitempty"`
}

// SessionSpec configures agent sessions at the gateway. Durations are Go duration
// strings passed through to the gateway.
type SessionSpec struct {
	// +optional
	Required bool `json:"required,omitempty"`
	// +kubebuilder:default=kubernetes
	// +optional
	Store string `json:"store,omitempty"`
	// +optional
	HeaderName string `json:"headerName,omitempty"`
	// +kubebuilder:default="24h"
	// +optional
	MaxLifetime string `json:"maxLifetime,omitempty"`
	// +kubebuilder:default="1h"
	// +optional
	IdleTimeout string `json:"idleTimeout,omitempty"`
	// +kubebuilder:default=Authorization
	// +optional
	UpstreamTokenHeader string `json:"upstreamTokenHeader,omitempty"`
}

// GatewaySpec configures the mcp-gateway sidecar.
type GatewaySpec struct {
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// Image of the sidecar; the operator's MCP_GATEWAY_PROXY_IMAGE when empty, and
	// phase Error when both are empty.
	// +optional
	Image string `json:"image,omitempty"`
	// Port the gateway listens on; the Service targets it when the gateway is enabled.
	// 0 means 8091.
	// +kubebuilder:default=8091
	// +optional
	Port int32 `json:"port,omitempty"`
	// UpstreamURL is where the gateway forwards; `http://127.0.0.1:<spec.port>` when empty.
	// +optional
	UpstreamURL string `json:"upstreamURL,omitempty"`
	// StripPrefix is removed from request paths before forwarding.
	// +optional
	StripPrefix string `json:"stripPrefix,omitempty"`
	// Resources of the sidecar, defaulted per value like the server's.
	// +optional
	Resources *ResourceRequirements `json:"resources,omitempty"`
}

// AnalyticsSpec configures event emission by the gateway. MCP Runtime checks the API key
// reference only while analytics is not disabled, and so does loom.
//
// +kubebuilder:validation:XValidation:rule="(has(self.disabled) && self.disabled) || !has(self.apiKeySecretRef) || self.apiKeySecretRef.name.trim().size() > 0",message="analytics.apiKeySecretRef.name is required",fieldPath=".apiKeySecretRef.name",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="(has(self.disabled) && self.disabled) || !has(self.apiKeySecretRef) || self.apiKeySecretRef.key.trim().size() > 0",message="analytics.apiKeySecretRef.key is required",fieldPath=".apiKeySecretRef.key",reason="FieldValueRequired"
type AnalyticsSpec struct {
	// +optional
	Disabled bool `json:"disabled,omitempty"`
	// IngestURL receives events; the operator's MCP_ANALYTICS_INGEST_URL when empty.
	// +optional
	IngestURL string `json:"ingestURL,omitempty"`
	// Source labels emitted events; `<name>-gateway` when empty.
	// +optional
	Source string `json:"source,omitempty"`
	// +kubebuilder:default=mcp.request
	// +optional
	EventType string `json:"eventType,omitempty"`
	// APIKeySecretRef selects the Secret key holding the ingest API key.
	// +optional
	APIKeySecretRef *AnalyticsKeyRef `json:"apiKeySecretRef,omitempty"`
}

// RolloutStrategy is how new pods replace old ones: RollingUpdate, Recreate or Canary. A
// blank value is the default (RollingUpdate), as MCP Runtime's defaulting webhook fills it
// in before its CRD's enum is checked.
//
// +kubebuilder:validation:XValidation:rule="self.trim().size() == 0 || self in ['RollingUpdate', 'Recreate', 'Canary']",message="must be RollingUpdate, Recreate or Canary"
type RolloutStrategy string

// RolloutSpec configures the Deployment strategy. maxUnavailable and maxSurge accept
// an integer or a percentage; MCP Runtime manifests write them as strings ("1"), which
// the template turns into the integer 1. As in MCP Runtime, a string is read without
// surrounding whitespace, an empty one means 25%, and the number may carry a sign ("+1").
type RolloutSpec struct {
	// +kubebuilder:default=RollingUpdate
	// +optional
	Strategy RolloutStrategy `json:"strategy,omitempty"`
	// +kubebuilder:default="25%"
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == string ? self.trim().size() == 0 || (self.trim().matches('^[-+]?[0-9]+%?$') && !self.trim().matches('^-[0-9]*[1-9]')) : self >= 0",message="must be a non-negative integer or a percentage such as 25%"
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
	// +kubebuilder:default="25%"
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == string ? self.trim().size() == 0 || (self.trim().matches('^[-+]?[0-9]+%?$') && !self.trim().matches('^-[0-9]*[1-9]')) : self >= 0",message="must be a non-negative integer or a percentage such as 25%"
	// +optional
	MaxSurge *intstr.IntOrString `json:"maxSurge,omitempty"`
	// CanaryReplicas run the new version on the `<name>-canary` Deployment; with
	// strategy Canary it must be > 0 and < replicas; other strategies ignore it.
	// +optional
	CanaryReplicas *int32 `json:"canaryReplicas,omitempty"`
}

// Phase summarises the server's readiness: Pending (no owned object is ready yet),
// PartiallyReady (some, not all, are), Ready (every owned object the spec asks for is
// ready) or Error (the spec or the operator's configuration is invalid; the message says
// why).
// +kubebuilder:validation:Enum=Pending;PartiallyReady;Ready;Error
type Phase string

// MCPServerStatus is the observed state, written by the operator only.
type MCPServerStatus struct {
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// Message explains what is not ready, or the error for phase Error.
	// +optional
	Message string `json:"message,omitempty"`
	// Conditions, one per type (DeploymentReady, ServiceReady, IngressReady,
	// GatewayReady, PolicyReady, CanaryReady, Ready).
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	// +optional
	DeploymentReady bool `json:"deploymentReady,omitempty"`
	// +optional
	ServiceReady bool `json:"serviceReady,omitempty"`
	// +optional
	IngressReady bool `json:"ingressReady,omitempty"`
	// +optional
	GatewayReady bool `json:"gatewayReady,omitempty"`
	// +optional
	PolicyReady bool `json:"policyReady,omitempty"`
	// +optional
	CanaryReady bool `json:"canaryReady,omitempty"`
	// URL is the public endpoint, set only once the server is Ready.
	// +optional
	URL string `json:"url,omitempty"`
	// ObservedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}
