package controllers

import (
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/loom-mcp/loom/engine/graph"
)

// Rules are the least privileges the reconciler needs for g: its instance kind (read, and
// write the status), every kind the graph renders (watch, apply, prune), every other kind
// it reads (get, list, watch), Events, and the Lease of leader election. Nothing else.
func Rules(g *graph.Graph) []rbacv1.PolicyRule {
	children := map[string]map[string]bool{}
	for _, n := range g.Nodes {
		gvr, _ := meta.UnsafeGuessKindToResource(n.Kind.GVK)
		if children[gvr.Group] == nil {
			children[gvr.Group] = map[string]bool{}
		}
		children[gvr.Group][gvr.Resource] = true
	}
	inst, _ := meta.UnsafeGuessKindToResource(g.Instance.GVK)
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{inst.Group}, Resources: []string{inst.Resource}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{inst.Group}, Resources: []string{inst.Resource + "/status"}, Verbs: []string{"get", "patch", "update"}},
	}
	for _, group := range sortedGroups(children) {
		rules = append(rules, rbacv1.PolicyRule{
			APIGroups: []string{group},
			Resources: sortedSet(children[group]),
			// create: an apply that creates an object needs it besides patch.
			Verbs: []string{"get", "list", "watch", "create", "patch", "delete"},
		})
	}
	rules = append(rules, readRules(g, children)...)
	return append(rules,
		rbacv1.PolicyRule{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		rbacv1.PolicyRule{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
	)
}

func sortedGroups(m map[string]map[string]bool) []string {
	out := make([]string, 0, len(m))
	for g := range m {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
