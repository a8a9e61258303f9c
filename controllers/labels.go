package controllers

const (
	// FieldManager is loom's one server-side apply field manager.
	FieldManager = "loom"

	// LabelGraph marks every object loom applies with the graph's name; the informers
	// watch only objects that carry it.
	LabelGraph = "loom.dev/graph"
	// LabelInstance names the instance an object belongs to.
	LabelInstance = "loom.dev/instance"
	// LabelNode names the graph node (resource id) an object was rendered from.
	LabelNode = "loom.dev/node"
	// AnnotationIntent holds a hash of the desired object loom last applied. With the
	// fields loom's manager owns, it tells whether an apply would change anything.
	AnnotationIntent = "loom.dev/intent"

	// indexInstance indexes cached objects by their LabelInstance.
	indexInstance = "loom.instance"
)
