// Package graph turns a parsed ResourceGraph into a compiled Graph: every expression
// type-checked against the instance's CRD schema and the built-in kinds' OpenAPI schemas,
// compiled once, and every node ordered by the references between expressions.
//
// A Graph is immutable once Load returns and is shared by every render, on any goroutine.
// The package imports engine/parse, engine/cel and engine/schema, never a cluster.
package graph
