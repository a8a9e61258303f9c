// Package input owns reading the files loom's commands are given: graphs, CRDs, instances,
// configuration and observed objects. `loom render`, `loom validate` and `loom test`
// (engine/cases) read every file through it, so they apply one set of rules: a file is a
// regular file of at most MaxFileSize bytes (a directory, named pipe or device fails at
// once, naming the path; "-" names standard input where a command reads it); YAML and JSON
// decode to JSON values whose integers are int64, as the API server stores them, every
// document of a stream, with fields given twice found; an instance is checked against the
// graph's instance kind, namespaced into "default" when it names none, defaulted from its
// CRD and checked as the API server would (schema.Set.Admit), every problem listed; an
// observed object is named by its node id and validated against that node's kind.
//
// It imports engine/graph and engine/schema, and libraries; never render, cases or a
// cluster.
package input
