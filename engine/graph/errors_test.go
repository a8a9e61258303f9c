package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
	"github.com/loom-mcp/loom/engine/schema"
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
		t.Run(tt.name, func(t *testing.T) { assertLoadError(t, s, header+tt.resources, tt.want) })
	}
}

// assertLoadError loads the graph src, which must fail saying each of want.
func assertLoadError(t *testing.T, s *schema.Set, src string, want []string) {
	t.Helper()
	_, err := graph.Load("g.yaml", []byte(src), graph.WithSchemas(s))
	require.Error(t, err)
	for _, w := range want {
		assert.Contains(t, err.Error(), w)
	}
}
