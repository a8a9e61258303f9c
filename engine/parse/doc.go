// Package parse owns the syntax of a ResourceGraph: it reads a graph document into a
// syntax tree that keeps the file:line:col of every node, and scans ${...} expressions out
// of its strings.
//
// It may import libraries only (gopkg.in/yaml.v3), no other package of loom.
//
// It checks shape only: required fields, unique and valid ids, well-formed ${}. Types,
// references and dependencies are the graph package's business.
package parse
