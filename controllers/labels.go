package controllers

const (
	// FieldManager is loom's one server-side apply field manager.
	FieldManager = "loom"

	// LabelGraph marks every object loom applies with the graph's name; the informers
	// watch only objects that carry it.
	LabelGraph = "loom.dev/graph"
	// LabelInstance names the instance an object belongs to (not on shared objects).
	LabelInstance = "loom.dev/instance"
	// LabelNode names the graph node (resource id) an object was rendered from.
	LabelNode = "loom.dev/node"
	// AnnotationIntent holds a hash of the desired object loom last applied. With the
	// fields loom's manager owns, it tells whether an apply would change anything.
	AnnotationIntent = "loom.dev/intent"

	// indexOwner indexes cached objects by the UIDs of their owners.
	indexOwner = "loom.owner"
)

// managerFor is the field manager that applies a node's object for inst. Shared objects
// get one manager per instance, so that each instance's ownerReference is its own field
// and one instance's apply never drops another's.
func managerFor(shared bool, instance string) string {
	if shared {
		return FieldManager + "/" + instance
	}
	return FieldManager
}
