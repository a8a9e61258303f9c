// Package engine owns nothing itself: it is the root of loom's resource-graph engine, whose
// subpackages are each one stage of the pipeline, and its test enforces which of them may
// import which (TestEngineImports):
//
//	parse     ResourceGraph YAML → syntax tree with file:line:col on every node, ${} scanning
//	schema    Kubernetes kinds → CEL types, defaults and structured-merge-diff validation
//	cel       the one CEL environment, compiled programs, cost limits, value conversion
//	graph     syntax tree → type-checked, dependency-ordered, compiled Graph (load time)
//	render    (Graph, instance, config, observed objects) → desired objects and node states;
//	          readyWhen per node and the instance's status, over observed objects
//	applied   a rendered object as the operator applies it: loom's labels, the intent
//	          annotation, the ownerReference to the instance, the field manager
//	input     the files loom is given (graphs, CRDs, instances, config, observed objects),
//	          each bounded in size, read by one set of rules
//	assert    kyverno-json assertion trees over rendered documents (the only user of kyverno-json)
//	cases     golden-case suites of graphs: `loom test`
//
// No package under engine/ may import controllers/, cmd/, hack/ or controller-runtime, or
// need a cluster, so the CLI and golden tests run exactly the code the controller runs.
package engine
