// Package parse owns the syntax of a ResourceGraph: it reads a graph document into a
// syntax tree that keeps the file:line:col of every node, and scans ${...} expressions out
// of its strings.
//
// It may import libraries only (gopkg.in/yaml.v3), no other package of loom.
//
// It checks shape only: required fields, unique and valid ids, well-formed ${}. Types,
// references and dependencies are the graph package's business. The keys it accepts are
// listed once (format.go), and JSONSchema describes the format from those lists for
// editors; DidYouMean finds, for a misspelt name, the nearest one in scope.
package parse
