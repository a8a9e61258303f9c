// Package controllers owns loom's reconciler: it turns the engine's desired objects into
// cluster state with server-side apply, and writes the status the graph computes. It may
// import engine packages, controller-runtime and client-go; nothing under engine/ imports
// it, and it never imports templates or cmd.
//
// It is generic. It takes a compiled graph (engine/graph) and serves the graph's instance
// kind, whatever it is; MCPServer is only the default graph that cmd/ wires in. It reads
// from informer caches restricted to loom's own objects and to what the graph reads
// (reads.go), and, with WatchNamespaces, to a list of namespaces; watches the graph's kinds
// the API server serves, and the others once they appear (kinds.go); applies through
// client-go's dynamic client with one field manager, skips applies that would change
// nothing, writes only objects the instance manages (ownership.go), prunes the objects the
// graph no longer renders (among them those of items gone from a collection: collections.go),
// tells terminal errors from transient ones (retry.go), and leaves deletion of an
// instance's objects to the garbage collector (every object has a controller
// ownerReference). Rules and NamespacedRules are the privileges it needs.
//
// Diff (diff.go) runs the same pass over every live instance with dry-run applies and
// reports what it would change, writing nothing; DiffRules are the privileges it needs.
package controllers
