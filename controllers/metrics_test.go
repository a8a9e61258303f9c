package controllers_test

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metricValue is the value of the series name{labels} in controller-runtime's registry
// (where loom's metrics live), or -1 when there is none.
func metricValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			return value(m)
		}
	}
	return -1
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return -1
}

// TestMetrics: the applies of a new instance are counted by result; a field held by
// another server-side applier shows in loom_conflicts_held until that applier lets go;
// instances are counted by phase; renders and watch events are counted.
func TestMetrics(t *testing.T) {
	installAppCRD(t)
	g := loadGraph(t)
	startOperator(t, g, nil)
	d := adminDynamic(t)
	ctx := context.Background()
	ns := "metrics"
	createNamespace(t, ns)
	graphLabel := map[string]string{"graph": g.Name}
	created := metricValue(t, "loom_applies_total", map[string]string{"graph": g.Name, "kind": "Deployment", "result": "created"})

	_, err := d.Resource(appGVR).Namespace(ns).Create(ctx, newApp(ns, "web", map[string]any{"image": "nginx:1.27"}), metav1.CreateOptions{})
	require.NoError(t, err)
	waitPhase(t, d, ns, "web", "Ready")
	assert.Equal(t, max(created, 0)+1, metricValue(t, "loom_applies_total", map[string]string{"graph": g.Name, "kind": "Deployment", "result": "created"}))
	assert.GreaterOrEqual(t, metricValue(t, "loom_instances", map[string]string{"graph": g.Name, "phase": "Ready"}), 1.0)
	assert.Greater(t, metricValue(t, "loom_render_duration_seconds", graphLabel), 0.0)
	assert.Greater(t, metricValue(t, "loom_watch_events_total", map[string]string{"graph": g.Name, "kind": "Deployment", "event": "add"}), 0.0)
	assert.Equal(t, 0.0, metricValue(t, "loom_conflicts_held", graphLabel))

	scaler := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": ns},
		"spec":     map[string]any{"replicas": int64(3)},
	}}
	_, err = d.Resource(deployGVR).Namespace(ns).Apply(ctx, "web", scaler, metav1.ApplyOptions{FieldManager: "team-scaler", Force: true})
	require.NoError(t, err)
	waitPhase(t, d, ns, "web", "Error")
	require.Eventually(t, func() bool { return metricValue(t, "loom_conflicts_held", graphLabel) == 1 }, 10*time.Second, 50*time.Millisecond)
	assert.Greater(t, metricValue(t, "loom_applies_total", map[string]string{"graph": g.Name, "kind": "Deployment", "result": "conflict"}), 0.0)

	delete(scaler.Object, "spec")
	_, err = d.Resource(deployGVR).Namespace(ns).Apply(ctx, "web", scaler, metav1.ApplyOptions{FieldManager: "team-scaler", Force: true})
	require.NoError(t, err)
	waitPhase(t, d, ns, "web", "Ready")
	require.Eventually(t, func() bool { return metricValue(t, "loom_conflicts_held", graphLabel) == 0 }, 10*time.Second, 50*time.Millisecond)
}
