// Package cases owns golden-case suites: it runs the cases of a ResourceGraph offline, with
// the code the controller runs: render.Render (every object validated against its schema)
// and render.Status. A suite is a directory: suite.yaml names the graph, its CRDs, default
// config and a fixed clock; each subdirectory is one case, an instance plus optional config,
// observed objects and API errors. Running a case yields a document {nodes, objects, status}
// that must equal the case's expected.yaml, whose objects and status must pass what the API
// server checks, and satisfy its assert.yaml (engine/assert); or, for a case with
// expected-error.txt, an error that says each of its lines.
// Layout is the authoritative description, printed by `loom test --help`; SuiteSchema is
// suite.yaml's JSON Schema, from the Go type it is decoded into.
//
// It may import engine/input (every file goes through it), engine/graph, engine/render and
// engine/assert, and libraries; it needs no cluster.
package cases
