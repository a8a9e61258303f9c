// Package parse reads a ResourceGraph document into a syntax tree that keeps the
// file:line:col of every node, and scans ${...} expressions out of its strings.
//
// It checks shape only: required fields, unique and valid ids, well-formed ${}. Types,
// references and dependencies are the graph package's business. It imports no other
// loom package.
package parse
