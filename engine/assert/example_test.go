package assert_test

import (
	"fmt"

	"github.com/loom-mcp/loom/engine/assert"
)

func ExampleTree_Check() {
	tree, err := assert.Compile("assert.yaml", []byte(`
(length(objects)): 1
objects:
- kind: Deployment
  (cel;object.spec.replicas > 1): true
`))
	if err != nil {
		panic(err)
	}
	doc := map[string]any{"objects": []any{
		map[string]any{"kind": "Deployment", "spec": map[string]any{"replicas": int64(1)}},
	}}
	failures, err := tree.Check(doc)
	if err != nil {
		panic(err)
	}
	for _, f := range failures {
		fmt.Println(f)
	}
	// Output:
	// objects[0].(cel;object.spec.replicas > 1): Expected value: true; got false
}
