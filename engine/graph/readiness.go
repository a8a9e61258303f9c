package graph

import (
	"fmt"
	"strings"

	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
	apiservercel "k8s.io/apiserver/pkg/cel"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/parse"
	"github.com/loom-mcp/loom/engine/schema"
)

// defaultReadiness is when an object of a built-in kind is ready, for a resource that
// states no readyWhen, after kstatus's conventions (sigs.k8s.io/cli-utils/pkg/kstatus):
// the controller has seen the current spec and finished acting on it. Each rule is CEL
// over the observed object, $ standing for the resource id; they are compiled and
// type-checked with the graph, like a readyWhen written in it. A kind not listed here is
// ready once it exists (ConfigMap, Secret, ServiceAccount, NetworkPolicy, ...), and so is
// a CRD kind, unless its schema has status.conditions: then its Ready condition
// (crdReadyCondition). The README's tour has this table.
var defaultReadiness = map[k8sschema.GroupKind][]string{
	// Rollout complete: every replica updated, ready and available, no old pod left.
	{Group: "apps", Kind: "Deployment"}: {observedGeneration, fmt.Sprintf(rolledOut, updated)},
	// As a Deployment; with the OnDelete strategy pods are updated by hand, so updated
	// replicas are not awaited.
	{Group: "apps", Kind: "StatefulSet"}: {observedGeneration, fmt.Sprintf(rolledOut, `$.?spec.?updateStrategy.?type.orValue("") == "OnDelete" || `+updated)},
	// Every node that should run the pod runs the current one, ready and available.
	{Group: "apps", Kind: "DaemonSet"}: {
		observedGeneration,
		`cel.bind(want, $.?status.?desiredNumberScheduled.orValue(0), $.?status.?currentNumberScheduled.orValue(0) == want
		   && $.?status.?updatedNumberScheduled.orValue(0) == want && $.?status.?numberReady.orValue(0) == want
		   && $.?status.?numberAvailable.orValue(0) == want)`,
	},
	// A cluster IP (an ExternalName Service has none); a LoadBalancer Service also needs
	// the address its load balancer published.
	{Group: "", Kind: "Service"}: {
		`$.?spec.?type.orValue("") == "ExternalName" || $.?spec.?clusterIP.orValue("") != ""`,
		`$.?spec.?type.orValue("") != "LoadBalancer" || size($.?status.?loadBalancer.?ingress.orValue([])) > 0`,
	},
	// The address its ingress controller published.
	{Group: "networking.k8s.io", Kind: "Ingress"}: {
		`size($.?status.?loadBalancer.?ingress.orValue([])) > 0`,
	},
	// Complete: it ran to success.
	{Group: "batch", Kind: "Job"}: {
		`$.?status.?conditions.orValue([]).exists(c, c.type == "Complete" && c.status == "True")`,
	},
	{Group: "", Kind: "PersistentVolumeClaim"}: {
		`$.?status.?phase.orValue("") == "Bound"`,
	},
	// Ready, or ran to success.
	{Group: "", Kind: "Pod"}: {
		`$.?status.?phase.orValue("") == "Succeeded"
		   || $.?status.?conditions.orValue([]).exists(c, c.type == "Ready" && c.status == "True")`,
	},
}

// rolledOut: as many replicas as the spec asks for (default 1), all ready and available,
// and updated as %s says.
const rolledOut = `cel.bind(want, $.?spec.?replicas.orValue(1), $.?status.?replicas.orValue(0) == want
	&& $.?status.?readyReplicas.orValue(0) == want && $.?status.?availableReplicas.orValue(0) == want && (%s))`

// updated: every replica runs the current pod template.
const updated = `$.?status.?updatedReplicas.orValue(0) == want`

// observedGeneration: the controller has seen the object's current spec.
const observedGeneration = `$.?status.?observedGeneration.orValue(0) == $.metadata.?generation.orValue(0)`

// crdReadyCondition: the Ready condition is True, for the current spec when the condition
// says which generation it describes.
const crdReadyCondition = `$.?status.?conditions.orValue([]).exists(c, c.type == "Ready" && c.status == "True"%s)`

// crdReadyGeneration narrows crdReadyCondition for kinds whose conditions carry
// observedGeneration.
const crdReadyGeneration = ` && c.?observedGeneration.orValue($.metadata.?generation.orValue(0)) == $.metadata.?generation.orValue(0)`

// readinessRules are the default readyWhen sources of kind k, $ not yet replaced; none for
// a kind that is ready once it exists.
func readinessRules(k *schema.Kind) []string {
	if k.CRD == "" {
		return defaultReadiness[k.GVK.GroupKind()]
	}
	cond := conditionType(k.Type)
	if cond == nil || cond.Fields["type"] == nil || cond.Fields["status"] == nil {
		return nil
	}
	gen := ""
	if cond.Fields["observedGeneration"] != nil {
		gen = crdReadyGeneration
	}
	return []string{fmt.Sprintf(crdReadyCondition, gen)}
}

// conditionType is the type of one item of status.conditions, when the kind's schema has
// such a list of objects.
func conditionType(t *apiservercel.DeclType) *apiservercel.DeclType {
	status, ok := t.Fields["status"]
	if !ok || !status.Type.IsObject() {
		return nil
	}
	conds, ok := status.Type.Fields["conditions"]
	if !ok || !conds.Type.IsList() || !conds.Type.ElemType.IsObject() {
		return nil
	}
	return conds.Type.ElemType
}

// defaultReadyWhen compiles the default readiness of resource r's kind k, for a resource
// that states no readyWhen: of each item's object, for a collection (forEach). An error in
// it names the kind, since the graph's text holds no such expression.
func (l *loader) defaultReadyWhen(env *cel.Env, r parse.Resource, k *schema.Kind) []*Expr {
	var out []*Expr
	for i, rule := range readinessRules(k) {
		text := strings.ReplaceAll(rule, "$", r.ID)
		if r.ForEach != nil {
			text = r.ID + ".all(o, " + strings.ReplaceAll(rule, "$", "o") + ")"
		}
		text = strings.Join(strings.Fields(text), " ")
		src := &parse.Source{Text: text, Pos: r.Pos}
		path := fmt.Sprintf("readyWhen (%s's default)[%d]", k.GVK.Kind, i)
		if e := l.boolExpr(env, &parse.Value{Pos: r.Pos, Kind: parse.Expr, Source: src}, "resource "+r.ID, path); e != nil {
			out = append(out, e)
		}
	}
	return out
}
