package controllers

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/loom-mcp/loom/engine/render"
)

// loom's own metrics, registered with controller-runtime's registry and served with its
// controller and client metrics on the manager's metrics endpoint. Labels stay bounded: a
// graph's name, a kind the graph names, an apply result, a watch event type, a phase the
// graph's status computes.
var (
	renderDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "loom_render_duration_seconds",
		Help:    "Time of one render of an instance through its graph (a reconcile renders once per pass).",
		Buckets: []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
	}, []string{"graph"})
	applies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "loom_applies_total",
		Help: "Objects loom applied or pruned, by result: created, configured, unchanged (no write), adopted, replaced, skipped (the platform's shared object), pruned, conflict (fields held by another applier) or error.",
	}, []string{"graph", "kind", "result"})
	heldGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "loom_conflicts_held",
		Help: "Objects loom does not apply now because another server-side applier holds fields the graph sets.",
	}, []string{"graph"})
	watchEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "loom_watch_events_total",
		Help: "Watch events of the objects the graph's nodes read or apply, by kind and event (add, update, delete).",
	}, []string{"graph", "kind", "event"})
	instancesDesc = prometheus.NewDesc("loom_instances",
		"Instances of the graph's kind in the operator's cache, by status phase (empty when the status has none).",
		[]string{"graph", "phase"}, nil)

	instances = &instanceCollector{lists: map[string]func(context.Context) ([]string, error){}}
	held      = &heldSet{objects: map[string]map[string]bool{}}
)

// The result label of loom_applies_total for an apply that failed; one that succeeded has
// its Action.
const (
	resultConflict = "conflict"
	resultError    = "error"
)

func init() {
	metrics.Registry.MustRegister(renderDuration, applies, heldGauge, watchEvents, instances)
}

// render renders in through the graph, timed.
func (r *reconciler) render(ctx context.Context, in render.Input) (*render.Result, error) {
	start := time.Now()
	res, err := render.Render(ctx, r.graph, in)
	renderDuration.WithLabelValues(r.graph.Name).Observe(time.Since(start).Seconds())
	return res, err
}

// recordApply counts the outcome of one apply or prune of obj (the rendered or the pruned
// object), and keeps loom_conflicts_held: an object is held from a refused apply until it
// is applied, pruned or deleted.
func (r *reconciler) recordApply(obj map[string]any, ch change, err error) {
	u := &unstructured.Unstructured{Object: obj}
	key := u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
	result := string(ch.Action)
	var h *heldError
	switch {
	case errors.As(err, &h):
		result = resultConflict
	case err != nil:
		result = resultError
	}
	if err != nil {
		// Successful applies are logged by Reconcile with the instance they belong to.
		r.log.V(1).Info("apply "+result, "kind", u.GetKind(), "namespace", u.GetNamespace(), "name", u.GetName(), "error", err.Error())
	}
	if err == nil || result == resultConflict {
		held.set(r.graph.Name, key, result == resultConflict)
	}
	applies.WithLabelValues(r.graph.Name, u.GetKind(), result).Inc()
}

// recordEvent counts one watch event of an object of the graph, and forgets a hold on an
// object that is gone.
func (r *reconciler) recordEvent(event string, obj client.Object) {
	gvk, err := apiutil.GVKForObject(obj, r.scheme) // typed objects from informers carry no kind
	if err != nil {
		return
	}
	kind := gvk.Kind
	watchEvents.WithLabelValues(r.graph.Name, kind, event).Inc()
	if event == "delete" {
		held.set(r.graph.Name, kind+"/"+obj.GetNamespace()+"/"+obj.GetName(), false)
	}
}

// heldSet is the objects behind loom_conflicts_held, by graph.
type heldSet struct {
	mu      sync.Mutex
	objects map[string]map[string]bool
}

func (s *heldSet) set(graph, key string, on bool) {
	if key == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.objects[graph]
	if m == nil {
		m = map[string]bool{}
		s.objects[graph] = m
	}
	if on == m[key] {
		return
	}
	if on {
		m[key] = true
	} else {
		delete(m, key)
	}
	heldGauge.WithLabelValues(graph).Set(float64(len(m)))
}

// instanceCollector counts the instances of each graph by phase when scraped, from the
// manager's cache: no state to keep in step with creations and deletions.
type instanceCollector struct {
	mu    sync.Mutex
	lists map[string]func(context.Context) ([]string, error) // graph → the phases of its instances
}

func (c *instanceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- instancesDesc }

func (c *instanceCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	lists := make(map[string]func(context.Context) ([]string, error), len(c.lists))
	for g, l := range c.lists {
		lists[g] = l
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for g, list := range lists {
		phases, err := list(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(instancesDesc, err)
			continue
		}
		counts := map[string]int{}
		for _, p := range phases {
			counts[p]++
		}
		for p, n := range counts {
			ch <- prometheus.MustNewConstMetric(instancesDesc, prometheus.GaugeValue, float64(n), g, p)
		}
	}
}

// watch makes the collector count the instances of r's graph from reader (the cache), and
// shows loom_conflicts_held for the graph from the start, at 0. A later call for the same
// graph replaces the earlier (tests start a manager per test).
func (c *instanceCollector) watch(r *reconciler, reader client.Reader) {
	heldGauge.WithLabelValues(r.graph.Name)
	gvk := r.graph.Instance.GVK
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lists[r.graph.Name] = func(ctx context.Context) ([]string, error) {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := reader.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
			return nil, err
		}
		out := make([]string, len(list.Items))
		for i, item := range list.Items {
			out[i], _, _ = unstructured.NestedString(item.Object, "status", "phase")
		}
		return out, nil
	}
}
