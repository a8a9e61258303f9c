package render_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/loom-mcp/loom/engine/render"
)

// kindsGraph has one resource of each kind with a default readiness, none stating
// readyWhen, and one that overrides its kind's default.
const kindsGraph = `  resources:
  - id: deploy
    template: {apiVersion: apps/v1, kind: Deployment, metadata: {name: d}}
  - id: sts
    template: {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s}}
  - id: ds
    template: {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d}}
  - id: svc
    template: {apiVersion: v1, kind: Service, metadata: {name: s}}
  - id: ing
    template: {apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: i}}
  - id: job
    template: {apiVersion: batch/v1, kind: Job, metadata: {name: j}}
  - id: pvc
    template: {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: p}}
  - id: pod
    template: {apiVersion: v1, kind: Pod, metadata: {name: p}}
  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
  - id: app
    template: {apiVersion: example.loom.dev/v1, kind: App, metadata: {name: a}, spec: {image: x}}
  - id: custom
    readyWhen: ['${ custom.?spec.?replicas.orValue(0) == 7 }']
    template: {apiVersion: apps/v1, kind: Deployment, metadata: {name: c}}
  - id: pvcs
    forEach: '${ ["a", "b"] }'
    template: {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: "${each}"}}
`

func obj(fields map[string]any) map[string]any {
	out := map[string]any{"metadata": map[string]any{"name": "x", "generation": int64(2)}}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

type m = map[string]any

// pvcs is the observed List of the collection pvcs, items a and b in the phases given.
func pvcs(phaseA, phaseB string) map[string]any {
	item := func(name, phase string) any {
		return m{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": m{"name": name, "namespace": "team"}, "status": m{"phase": phase}}
	}
	return m{"apiVersion": "v1", "kind": "List", "items": []any{item("a", phaseA), item("b", phaseB)}}
}

// TestDefaultReadiness: a resource without readyWhen is ready by its kind's rule
// (engine/graph/readiness.go), each case one object of one kind.
func TestDefaultReadiness(t *testing.T) {
	g := load(t, kindsGraph)
	rolledOut := m{"observedGeneration": int64(2), "replicas": int64(3), "updatedReplicas": int64(3), "readyReplicas": int64(3), "availableReplicas": int64(3)}
	dsDone := m{"observedGeneration": int64(2), "desiredNumberScheduled": int64(2), "currentNumberScheduled": int64(2), "updatedNumberScheduled": int64(2), "numberReady": int64(2), "numberAvailable": int64(2)}
	tests := []struct {
		name   string
		id     string
		object map[string]any
		ready  bool
	}{
		{"deployment rolled out", "deploy", obj(m{"spec": m{"replicas": int64(3)}, "status": rolledOut}), true},
		{"deployment of one replica by default", "deploy", obj(m{"status": m{"observedGeneration": int64(2), "replicas": int64(1), "updatedReplicas": int64(1), "readyReplicas": int64(1), "availableReplicas": int64(1)}}), true},
		{"deployment whose spec is not observed yet", "deploy", obj(m{"spec": m{"replicas": int64(3)}, "status": m{"observedGeneration": int64(1), "replicas": int64(3), "updatedReplicas": int64(3), "readyReplicas": int64(3), "availableReplicas": int64(3)}}), false},
		{"deployment mid-rollout", "deploy", obj(m{"spec": m{"replicas": int64(3)}, "status": m{"observedGeneration": int64(2), "replicas": int64(4), "updatedReplicas": int64(2), "readyReplicas": int64(3), "availableReplicas": int64(3)}}), false},
		{"deployment without status", "deploy", obj(m{"spec": m{"replicas": int64(3)}}), false},
		{"scaled to zero", "deploy", obj(m{"spec": m{"replicas": int64(0)}, "status": m{"observedGeneration": int64(2)}}), true},
		{"statefulset rolled out", "sts", obj(m{"spec": m{"replicas": int64(3)}, "status": rolledOut}), true},
		{"statefulset with an old pod", "sts", obj(m{"spec": m{"replicas": int64(3)}, "status": m{"observedGeneration": int64(2), "replicas": int64(3), "updatedReplicas": int64(2), "readyReplicas": int64(3), "availableReplicas": int64(3)}}), false},
		{"statefulset OnDelete waits for no update", "sts", obj(m{"spec": m{"replicas": int64(3), "updateStrategy": m{"type": "OnDelete"}}, "status": m{"observedGeneration": int64(2), "replicas": int64(3), "updatedReplicas": int64(0), "readyReplicas": int64(3), "availableReplicas": int64(3)}}), true},
		{"daemonset on every node", "ds", obj(m{"status": dsDone}), true},
		{"daemonset with a node to go", "ds", obj(m{"status": m{"observedGeneration": int64(2), "desiredNumberScheduled": int64(2), "currentNumberScheduled": int64(2), "updatedNumberScheduled": int64(1), "numberReady": int64(2), "numberAvailable": int64(2)}}), false},
		{"service with a cluster IP", "svc", obj(m{"spec": m{"clusterIP": "10.0.0.1"}}), true},
		{"service without one yet", "svc", obj(m{"spec": m{}}), false},
		{"headless service", "svc", obj(m{"spec": m{"clusterIP": "None"}}), true},
		{"external name service", "svc", obj(m{"spec": m{"type": "ExternalName", "externalName": "db.example.com"}}), true},
		{"load balancer without an address", "svc", obj(m{"spec": m{"type": "LoadBalancer", "clusterIP": "10.0.0.1"}}), false},
		{"load balancer with one", "svc", obj(m{"spec": m{"type": "LoadBalancer", "clusterIP": "10.0.0.1"}, "status": m{"loadBalancer": m{"ingress": []any{m{"ip": "192.0.2.1"}}}}}), true},
		{"ingress with an address", "ing", obj(m{"status": m{"loadBalancer": m{"ingress": []any{m{"hostname": "lb.example.com"}}}}}), true},
		{"ingress without one", "ing", obj(m{"spec": m{"rules": []any{m{"host": "a.example.com"}}}}), false},
		{"job complete", "job", obj(m{"status": m{"conditions": []any{m{"type": "Complete", "status": "True"}}}}), true},
		{"job failed", "job", obj(m{"status": m{"conditions": []any{m{"type": "Failed", "status": "True"}}}}), false},
		{"pvc bound", "pvc", obj(m{"status": m{"phase": "Bound"}}), true},
		{"pvc pending", "pvc", obj(m{"status": m{"phase": "Pending"}}), false},
		{"pod ready", "pod", obj(m{"status": m{"conditions": []any{m{"type": "Ready", "status": "True"}}}}), true},
		{"pod succeeded", "pod", obj(m{"status": m{"phase": "Succeeded"}}), true},
		{"pod starting", "pod", obj(m{"status": m{"phase": "Pending"}}), false},
		{"configmap exists", "cm", obj(nil), true},
		{"crd kind Ready for its generation", "app", obj(m{"status": m{"conditions": []any{m{"type": "Ready", "status": "True", "observedGeneration": int64(2)}}}}), true},
		{"crd kind Ready for an older generation", "app", obj(m{"status": m{"conditions": []any{m{"type": "Ready", "status": "True", "observedGeneration": int64(1)}}}}), false},
		{"crd kind Ready, generation not said", "app", obj(m{"status": m{"conditions": []any{m{"type": "Ready", "status": "True"}}}}), true},
		{"crd kind without a Ready condition yet", "app", obj(nil), false},
		{"readyWhen overrides the default", "custom", obj(m{"spec": m{"replicas": int64(7)}}), true},
		{"a collection: every item by its kind's rule", "pvcs", pvcs("Bound", "Bound"), true},
		{"a collection with an item not ready", "pvcs", pvcs("Bound", "Pending"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := render.Input{Instance: instance(), Observed: map[string]map[string]any{tt.id: tt.object}}
			rep := evaluate(t, g, in, render.StatusOptions{})
			assert.Empty(t, rep.Errors)
			assert.Equal(t, tt.ready, rep.Ready[tt.id])
		})
	}
}

// summaryGraph waits for cm and svc; np is ignored, extra is skipped unless the instance
// has a host. Its status reads status vars that state the readiness rule once.
const summaryGraph = `  vars:
    isReady: ${ size(errors) == 0 && allReady }
    phase: '${ size(errors) > 0 ? "Error" : vars.isReady ? "Ready" : anyReady ? "PartiallyReady" : "Pending" }'
    waiting: '${ [ready.cm ? "" : "cm", ready.svc ? "" : "svc"].filter(s, s != "") }'
    url: '${ vars.isReady ? optional.of("http://" + svc.spec.clusterIP) : optional.none() }'
  resources:
  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
  - id: svc
    template: {apiVersion: v1, kind: Service, metadata: {name: s}}
  - id: np
    ignoreReadiness: true
    template: {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: n}}
  - id: extra
    includeWhen: ['${ has(schema.spec.host) }']
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: e}}
  status:
    phase: ${ vars.phase }
    ready: ${ vars.isReady }
    url: ${ vars.url }
    conditions:
    - type: Ready
      status: '${ vars.isReady ? "True" : "False" }'
      reason: ${ vars.phase }
      message: '${ vars.isReady ? "ready" : "waiting for " + vars.waiting.join(", ") }'
`

// TestStatusVarsAndSummary: status vars are computed in the status phase, once readiness
// is known; allReady and anyReady leave out skipped and ignored nodes.
func TestStatusVarsAndSummary(t *testing.T) {
	g := load(t, summaryGraph)
	cm := map[string]any{"metadata": map[string]any{"name": "c"}}
	svc := map[string]any{"metadata": map[string]any{"name": "s"}, "spec": map[string]any{"clusterIP": "10.0.0.9"}}
	withHost := instance()
	withHost["spec"].(map[string]any)["host"] = "web.example.com"
	tests := []struct {
		name     string
		instance map[string]any
		observed map[string]map[string]any
		errors   []string
		want     map[string]any
		message  string
	}{
		{"nothing observed", instance(), nil, nil,
			map[string]any{"phase": "Pending", "ready": false}, "waiting for cm, svc"},
		{"one of two", instance(), map[string]map[string]any{"cm": cm}, nil,
			map[string]any{"phase": "PartiallyReady", "ready": false}, "waiting for svc"},
		{"all waited for, the ignored one not observed", instance(), map[string]map[string]any{"cm": cm, "svc": svc}, nil,
			map[string]any{"phase": "Ready", "ready": true, "url": "http://10.0.0.9"}, "ready"},
		{"an included node counts", withHost, map[string]map[string]any{"cm": cm, "svc": svc}, nil,
			map[string]any{"phase": "PartiallyReady", "ready": false}, "waiting for "},
		{"errors", instance(), map[string]map[string]any{"cm": cm, "svc": svc}, []string{"apply svc: forbidden"},
			map[string]any{"phase": "Error", "ready": false}, "waiting for "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := evaluate(t, g, render.Input{Instance: tt.instance, Observed: tt.observed}, render.StatusOptions{Errors: tt.errors})
			assert.Empty(t, rep.Errors)
			cond := rep.Status["conditions"].([]any)[0].(map[string]any)
			assert.Equal(t, tt.want["phase"], cond["reason"], "one rule, read by two fields")
			assert.Equal(t, tt.message, cond["message"])
			delete(rep.Status, "conditions")
			assert.Equal(t, tt.want, rep.Status)
		})
	}
}
