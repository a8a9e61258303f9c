package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of MCPServer.
var GroupVersion = schema.GroupVersion{Group: "mcpruntime.org", Version: "v1alpha1"}

var (
	// SchemeBuilder collects the functions that register this package's types.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme registers MCPServer, MCPAccessGrant and MCPAgentSession (and their lists).
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &MCPServer{}, &MCPServerList{},
		&MCPAccessGrant{}, &MCPAccessGrantList{}, &MCPAgentSession{}, &MCPAgentSessionList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
