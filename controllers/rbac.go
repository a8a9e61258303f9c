package controllers

import (
	"fmt"
	"maps"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/loom-mcp/loom/engine/graph"
)

// Rules are the least privileges the reconciler needs for g: its instance kind (read, and
// write the status), every kind the graph renders (watch, apply, prune), every other kind
// it reads (get, list, watch), and Events. Nothing else: the Lease of leader election is
// granted by a Role in the operator's own namespace (config/rbac/leader_election_role.yaml),
// and whether a kind is served (a CRD installed after the operator started, kinds.go) is
// asked of discovery, which every authenticated user may read.
func Rules(g *graph.Graph) []rbacv1.PolicyRule {
	return objectRules(g)
}

// NamespacedRules are the rules a Role grants in each namespace the operator serves when
// it watches a list of namespaces (WatchNamespaces): those of Rules. No cluster-scoped rule
// remains: a namespaced
// instance renders only namespaced kinds (graph.Load refuses others), the informers list
// and watch per namespace, and discovery, which the REST mapper reads, is open to every
// authenticated user. A graph whose instance kind is cluster-scoped has no namespaced
// form: an error.
func NamespacedRules(g *graph.Graph) ([]rbacv1.PolicyRule, error) {
	if g.Instance == nil || !g.Instance.Namespaced {
		return nil, fmt.Errorf("graph %s: its instance kind is cluster-scoped, so the operator cannot be restricted to namespaces", g.Name)
	}
	return objectRules(g), nil
}

// objectRules are the rules on the instance kind, the rendered kinds and Events.
func objectRules(g *graph.Graph) []rbacv1.PolicyRule {
	children := renderedResources(g)
	inst, _ := meta.UnsafeGuessKindToResource(g.Instance.GVK)
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{inst.Group}, Resources: []string{inst.Resource}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{inst.Group}, Resources: []string{inst.Resource + "/status"}, Verbs: []string{"get", "patch", "update"}},
	}
	for _, group := range slices.Sorted(maps.Keys(children)) {
		rules = append(rules, rbacv1.PolicyRule{
			APIGroups: []string{group},
			Resources: slices.Sorted(maps.Keys(children[group])),
			// create: an apply that creates an object needs it besides patch.
			Verbs: []string{"get", "list", "watch", "create", "patch", "delete"},
		})
	}
	rules = append(rules, readRules(g, children)...)
	return append(rules,
		rbacv1.PolicyRule{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	)
}

// renderedResources is the resources of the kinds g renders, by API group.
func renderedResources(g *graph.Graph) map[string]map[string]bool {
	children := map[string]map[string]bool{}
	for _, n := range g.Nodes {
		gvr, _ := meta.UnsafeGuessKindToResource(n.Kind.GVK)
		if children[gvr.Group] == nil {
			children[gvr.Group] = map[string]bool{}
		}
		children[gvr.Group][gvr.Resource] = true
	}
	return children
}

// DiffRules are the privileges Diff needs for g: get and list the instance kind and every
// kind the graph renders or reads, and patch and create the rendered kinds, for the
// dry-run applies (an apply of an object that does not exist needs create).
// RBAC does not tell a dry run from a write: whoever runs a diff may also apply, so give
// these rules to those trusted with the operator's applies (or run the diff as the operator).
func DiffRules(g *graph.Graph) []rbacv1.PolicyRule {
	children := renderedResources(g)
	inst, _ := meta.UnsafeGuessKindToResource(g.Instance.GVK)
	rules := []rbacv1.PolicyRule{{APIGroups: []string{inst.Group}, Resources: []string{inst.Resource}, Verbs: []string{"get", "list"}}}
	for _, group := range slices.Sorted(maps.Keys(children)) {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{group}, Resources: slices.Sorted(maps.Keys(children[group])), Verbs: []string{"get", "list", "create", "patch"}})
	}
	for _, r := range readRules(g, children) {
		r.Verbs = []string{"get", "list"}
		rules = append(rules, r)
	}
	return rules
}
