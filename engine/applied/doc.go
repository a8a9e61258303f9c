// Package applied owns the form in which loom applies a rendered object: the labels that
// mark it as loom's (graph, node, instance), the intent annotation (a hash of the desired
// object), the ownerReference to the instance, and the one field manager that applies it.
// The operator (controllers/) sends exactly what Object returns; `loom render` prints it
// and `loom diff` dry-runs it, so what a person sees offline is what the operator applies.
//
// It may import engine/graph and engine/render, and libraries; it needs no cluster.
package applied
