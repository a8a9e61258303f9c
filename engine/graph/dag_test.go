package graph

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOrder(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		deps  map[string][]string
		want  []string
		cycle []string
	}{
		{"declaration order when free", []string{"a", "b", "c"}, nil, []string{"a", "b", "c"}, nil},
		{"dependency first", []string{"a", "b", "c"}, map[string][]string{"a": {"c"}}, []string{"b", "c", "a"}, nil},
		{"chain", []string{"c", "b", "a"}, map[string][]string{"c": {"b"}, "b": {"a"}}, []string{"a", "b", "c"}, nil},
		{"unknown deps ignored", []string{"a"}, map[string][]string{"a": {"schema"}}, []string{"a"}, nil},
		{"self loop", []string{"a", "b"}, map[string][]string{"a": {"a"}}, nil, []string{"a", "a"}},
		{"three cycle", []string{"x", "a", "b", "c"}, map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}}, nil, []string{"a", "b", "c", "a"}},
		{"cycle behind a tail", []string{"t", "a", "b"}, map[string][]string{"t": {"a"}, "a": {"b"}, "b": {"a"}}, nil, []string{"a", "b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := order(tt.names, tt.deps)
			if tt.cycle != nil {
				var ce *CycleError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tt.cycle, ce.Cycle)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
