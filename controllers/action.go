package controllers

// Action is what applying a graph does to one object, in the words of a Flux ChangeSet:
// the reconciler records it for every object it applies or prunes (its log lines, the
// result of loom_applies_total), and Diff predicts it for every object that would change.
type Action string

const (
	// Created: the object did not exist; the apply makes it.
	Created Action = "created"
	// Configured: the apply changes fields of an existing object (a diff lists them).
	Configured Action = "configured"
	// Unchanged: the object already is as rendered; nothing is sent.
	Unchanged Action = "unchanged"
	// Adopted: the object is controlled by this instance but loom never applied it (MCP
	// Runtime leaves its objects so); the apply takes it over in place.
	Adopted Action = "adopted"
	// Replaced: the API server refuses the change in place (an immutable field) and the
	// resource says `recreate: true`: the object is deleted and created again.
	Replaced Action = "replaced"
	// Skipped: a shared object that exists and is not loom's (the platform made it): read,
	// never written.
	Skipped Action = "skipped"
	// Pruned: the instance controls the object and the graph no longer renders it: it is
	// deleted.
	Pruned Action = "pruned"
	// Refused: the apply fails (a diff's Error says why): an object loom may not write, an
	// immutable field, fields held by another applier, a value the API server refuses. The
	// object stays as it is and the instance's status reports the error.
	Refused Action = "refused"
)
