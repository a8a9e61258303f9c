// Package graph owns the compiled Graph: a parsed ResourceGraph with every expression
// type-checked against the instance's CRD schema and the built-in kinds' OpenAPI schemas,
// compiled once, and every node ordered by the references between expressions. It reads
// no files: Load takes the bytes (engine/input reads them).
//
// It may import engine/parse, engine/cel and engine/schema, and libraries; never a cluster.
//
// A Graph is immutable once Load returns and is shared by every render, on any goroutine.
package graph
