package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
)

// loadError is one bad graph: its resources (after header) and what the error must say.
type loadError struct {
	name      string
	resources string
	want      []string
}

// assertLoadErrors loads each graph of tests, which must fail saying each of its wants.
func assertLoadErrors(t *testing.T, tests []loadError) {
	t.Helper()
	s := enginetest.Schemas(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := graph.Load("g.yaml", []byte(header+tt.resources), graph.WithSchemas(s))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
