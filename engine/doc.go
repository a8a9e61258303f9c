// Package engine is the root of loom's resource-graph engine. The work happens in its
// subpackages, each one stage of the pipeline:
//
//	parse     ResourceGraph YAML → syntax tree with file:line:col on every node, ${} scanning
//	schema    Kubernetes kinds → CEL types, defaults and structured-merge-diff validation
//	cel       the one CEL environment, compiled programs, cost limits, value conversion
//	graph     syntax tree → type-checked, dependency-ordered, compiled Graph (load time)
//	render    (Graph, instance, config, observed objects) → desired objects and node states;
//	          readyWhen per node and the instance's status, over observed objects
//	assert    kyverno-json assertion trees over rendered documents (the only user of kyverno-json)
//	cases     golden-case suites of graphs: `loom test`
//
// Everything here is pure: no package under engine/ imports controllers/ or needs a cluster,
// so the CLI and golden tests run exactly the code the controller runs.
package engine
