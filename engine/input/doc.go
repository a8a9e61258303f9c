// Package input owns reading the files loom's commands are given: graphs, CRDs, instances,
// configuration and observed objects. `loom render`, `loom validate` and `loom test`
// (engine/cases) read every file through it, so they apply one set of rules: a file is a
// regular file of at most MaxFileSize bytes (a directory, named pipe or device fails at
// once, naming the path); YAML and JSON decode to JSON values whose integers are int64, as
// the API server stores them; an instance is checked against the graph's instance kind,
// namespaced into "default" when it names none, defaulted from its CRD and validated; an
// observed object is named by its node id and validated against that node's kind.
//
// It imports engine/graph and engine/schema, and libraries; never render, cases or a
// cluster.
package input
