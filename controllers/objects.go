package controllers

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Kinds the scheme knows (the built-in ones) are cached as typed objects, the others as
// unstructured: a typed Deployment takes a fraction of the memory of the same object as
// nested maps, and a fleet's informer caches are most of the operator's memory. The
// reconciler reads both as unstructured.

// newObject returns an empty object of gvk: typed if scheme knows the kind.
func newObject(scheme *runtime.Scheme, gvk schema.GroupVersionKind) client.Object {
	if obj, err := scheme.New(gvk); err == nil {
		if co, ok := obj.(client.Object); ok {
			return co
		}
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// newList returns an empty list of gvk's kind: typed if scheme knows the kind.
func newList(scheme *runtime.Scheme, gvk schema.GroupVersionKind) client.ObjectList {
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	if obj, err := scheme.New(listGVK); err == nil {
		if l, ok := obj.(client.ObjectList); ok {
			return l
		}
	}
	u := &unstructured.UnstructuredList{}
	u.SetGroupVersionKind(listGVK)
	return u
}

// items converts the items of a list read from the cache to unstructured objects of gvk.
func items(list client.ObjectList, gvk schema.GroupVersionKind) ([]*unstructured.Unstructured, error) {
	if u, ok := list.(*unstructured.UnstructuredList); ok {
		out := make([]*unstructured.Unstructured, len(u.Items))
		for i := range u.Items {
			out[i] = &u.Items[i]
		}
		return out, nil
	}
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, fmt.Errorf("converting a cached %s: %w", gvk.Kind, err)
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(gvk) // typed objects from the cache carry no type meta
		out = append(out, u)
	}
	return out, nil
}
