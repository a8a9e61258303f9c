// Package render is the pure function at the heart of loom: (graph, instance, config,
// observed objects) → desired objects in dependency order, with a state for every node.
//
// It needs no cluster and keeps no state between calls; the controller, the CLI and the
// golden tests all call Render. It imports engine/graph and engine/cel.
package render
