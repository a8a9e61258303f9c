package controllers

const (
	// FieldManager is loom's one server-side apply field manager.
	FieldManager = "loom"

	// LabelGraph marks every object loom applies with the graph's name; the informers
	// watch only objects that carry it.
	LabelGraph = "loom.dev/graph"
	// LabelInstance names the instance an object belongs to. Shared objects, which belong to
	// every instance of their namespace, do not carry it.
	LabelInstance = "loom.dev/instance"
	// LabelNode names the graph node (resource id) an object was rendered from.
	LabelNode = "loom.dev/node"
	// AnnotationIntent holds a hash of the desired object loom last applied. With the
	// fields loom's manager owns, it tells whether an apply would change anything.
	AnnotationIntent = "loom.dev/intent"

	// indexOwner indexes cached objects by the UID of their controller.
	indexOwner = "loom.owner"
	// indexShared indexes shared objects (no LabelInstance) by their node id.
	indexShared = "loom.shared"
)
