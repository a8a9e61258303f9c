// Package render owns evaluating a Graph: Render is the pure function at the heart of loom,
// (graph, instance, config, observed objects) → desired objects in dependency order, with a
// state for every node; Status then decides which nodes are ready (their readyWhen
// expressions) and what the instance's status is (the graph's status expressions), with the
// same evaluator and the same CEL budget. A collection (a resource with forEach) renders
// one object per item (collection.go).
//
// It may import engine/graph, engine/cel and engine/parse, and libraries; it needs no
// cluster and keeps no state between calls. The controller, the CLI and the golden tests
// all call Render and Status.
package render
