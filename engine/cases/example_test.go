package cases_test

import (
	"context"
	"fmt"
	"regexp"

	"github.com/loom-mcp/loom/engine/cases"
)

// Run the engine's own golden cases whose names end in "observed", as
// `loom test testdata/engine --run 'observed$'` does.
func ExampleRun() {
	results, err := cases.Run(context.Background(), "../../testdata/engine", cases.Options{Match: regexp.MustCompile(`observed$`)})
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		fmt.Println(r.Name, "failed:", r.Failed())
	}
	// Output:
	// nothing-observed failed: false
	// settings-observed failed: false
}
