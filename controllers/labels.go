package controllers

// loom's labels, intent annotation and field manager are engine/applied's: the CLI prints
// and dry-runs objects in the form the operator applies them.

const (
	// indexOwner indexes cached objects by the UID of their controller.
	indexOwner = "loom.owner"
	// indexShared indexes shared objects (no applied.LabelInstance) by their node id.
	indexShared = "loom.shared"
)
