package templates_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/render"
)

func grantList(n, rules int) map[string]any {
	items := make([]any, n)
	for i := range items {
		toolRules := make([]any, rules)
		for j := range toolRules {
			toolRules[j] = map[string]any{"name": fmt.Sprintf("tool-%d", j), "decision": "deny"}
		}
		items[i] = map[string]any{
			"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPAccessGrant",
			"metadata": map[string]any{"name": fmt.Sprintf("g%05d", i), "namespace": "team"},
			"spec": map[string]any{
				"serverRef":          map[string]any{"name": "weather", "namespace": "mcp"},
				"subject":            map[string]any{"humanID": fmt.Sprintf("user-%d", i), "teamID": "t"},
				"maxTrust":           "medium",
				"allowedSideEffects": []any{"read", "write"},
				"toolRules":          toolRules,
			},
		}
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
}

func gatewayInstance() map[string]any {
	return map[string]any{
		"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
		"metadata": map[string]any{"name": "weather", "namespace": "mcp", "generation": int64(1)},
		"spec":     map[string]any{"image": "ghcr.io/acme/weather:1.0", "gateway": map[string]any{"enabled": true, "image": "gw:1"}},
	}
}

// TestManyGrants: thousands of grants for one server render within the budget; past what
// the graph can hold (1000 grants, fewer when each has many tool rules), the status says
// so and names the limit, instead of silently dropping grants.
func TestManyGrants(t *testing.T) {
	g := load(t)
	tests := []struct {
		grants, rules int
		want          []string // in the status message; none when the policy renders
	}{
		{1000, 1, nil},
		{1001, 1, []string{"resource grants: 1001 MCPAccessGrant objects selected, more than the read's limit of 1000 (read.maxItems)"}},
		{1000, 8, []string{"vars.policyGrants: ${ grants.map(g, accessOf(g, ", "cost limit exceeded: more than 1000000 units"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d grants, %d rules each", tt.grants, tt.rules), func(t *testing.T) {
			in := render.Input{Instance: gatewayInstance(), Observed: map[string]map[string]any{"grants": grantList(tt.grants, tt.rules)}}
			res, err := render.Render(context.Background(), g, in)
			require.NoError(t, err)
			pol, _ := res.Node("policy")
			rep, err := render.Status(context.Background(), g, in, res, render.StatusOptions{})
			require.NoError(t, err)
			t.Logf("%d grants: policy %s, budget left %d of %d", tt.grants, pol.State, res.Budget.Remaining, g.CostBudget)
			if tt.want == nil {
				require.Equal(t, render.Rendered, pol.State, pol.Reason)
				data := pol.Object["data"].(map[string]any)["policy.json"].(string)
				assert.Equal(t, tt.grants, strings.Count(data, `"max_trust"`))
				return
			}
			assert.Equal(t, render.Error, pol.State)
			assert.Equal(t, "Error", rep.Status["phase"])
			for _, w := range tt.want {
				assert.Contains(t, rep.Status["message"], w)
			}
		})
	}
}
