package applied

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
)

const (
	// FieldManager is loom's one server-side apply field manager.
	FieldManager = "loom"

	// LabelGraph marks every object loom applies with the graph's name; the operator's
	// informers watch only objects that carry it.
	LabelGraph = "loom.dev/graph"
	// LabelInstance names the instance an object belongs to. Shared objects, which belong to
	// every instance of their namespace, do not carry it.
	LabelInstance = "loom.dev/instance"
	// LabelNode names the graph node (resource id) an object was rendered from.
	LabelNode = "loom.dev/node"
	// AnnotationIntent holds a hash of the desired object loom last applied. With the
	// fields loom's manager owns, it tells whether an apply would change anything.
	AnnotationIntent = "loom.dev/intent"
)

// Object returns the object the operator applies for node, rendered as rendered for inst:
// loom's labels, then the intent annotation (a hash of everything so far, so every instance
// stamps the same intent on a shared object), then the ownerReference to inst, a controller
// reference unless the node is shared. rendered is not changed: the result shares its
// values below the top level except metadata, which is copied.
//
// An instance with no metadata.uid (read from a file, never stored) gets an ownerReference
// whose uid is empty: the API server refuses to apply it, rather than accepting a reference
// to an owner that does not exist, which the garbage collector would act on.
func Object(g *graph.Graph, node *graph.Node, inst *unstructured.Unstructured, rendered map[string]any) (*unstructured.Unstructured, error) {
	obj := make(map[string]any, len(rendered))
	for k, v := range rendered {
		obj[k] = v
	}
	if meta, ok := rendered["metadata"].(map[string]any); ok {
		obj["metadata"] = runtime.DeepCopyJSONValue(meta)
	}
	desired := &unstructured.Unstructured{Object: obj}
	labels := desired.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelGraph] = g.Name
	labels[LabelNode] = node.ID
	if !node.Shared {
		labels[LabelInstance] = inst.GetName()
	}
	desired.SetLabels(labels)
	if err := stampIntent(desired); err != nil {
		return nil, fmt.Errorf("%s: %w", node.ID, err)
	}
	yes := true
	ref := metav1.OwnerReference{APIVersion: inst.GetAPIVersion(), Kind: inst.GetKind(), Name: inst.GetName(), UID: inst.GetUID()}
	if !node.Shared {
		ref.Controller, ref.BlockOwnerDeletion = &yes, &yes
	}
	desired.SetOwnerReferences(append(desired.GetOwnerReferences(), ref))
	return desired, nil
}

// Objects returns the objects the operator applies for every rendered node of res (each item
// of a collection), in the graph's order. Nodes in other states have none: the operator
// applies nothing for them.
func Objects(g *graph.Graph, inst map[string]any, res *render.Result) ([]*unstructured.Unstructured, error) {
	owner := &unstructured.Unstructured{Object: inst}
	var out []*unstructured.Unstructured
	for _, n := range res.Nodes {
		if n.State != render.Rendered {
			continue
		}
		node, ok := g.Node(n.ID)
		if !ok {
			return nil, fmt.Errorf("the render has node %q, which the graph does not", n.ID)
		}
		for _, rendered := range n.Objects() {
			obj, err := Object(g, node, owner, rendered)
			if err != nil {
				return nil, err
			}
			out = append(out, obj)
		}
	}
	return out, nil
}

// stampIntent sets AnnotationIntent on desired to the hash of its content.
func stampIntent(desired *unstructured.Unstructured) error {
	data, err := json.Marshal(desired.Object) // map keys sorted: a stable hash
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	ann := desired.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationIntent] = hex.EncodeToString(sum[:16])
	desired.SetAnnotations(ann)
	return nil
}
