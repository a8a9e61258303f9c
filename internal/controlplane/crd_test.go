package controlplane_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.test.loom.dev}
spec:
  group: test.loom.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// TestInstallCRD: once InstallCRD returns, objects of the kind can be created; a second
// install of the same CRD is no error; anything but a CRD is refused, naming its kind.
func TestInstallCRD(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, cp.InstallCRD(ctx, []byte(widgetCRD)))
	require.NoError(t, cp.InstallCRD(ctx, []byte(widgetCRD)))
	d, err := dynamic.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	ns := namespace(t, adminClient(t))
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "test.loom.dev/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"},
	}}
	_, err = d.Resource(schema.GroupVersionResource{Group: "test.loom.dev", Version: "v1", Resource: "widgets"}).Namespace(ns).Create(ctx, w, metav1.CreateOptions{})
	require.NoError(t, err)

	err = cp.InstallCRD(ctx, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `expected a CustomResourceDefinition, got kind "ConfigMap"`)
}
