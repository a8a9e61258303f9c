package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
)

// Diff: what the reconciler would do if it ran a graph now, found without doing it. Every
// instance is observed as the reconciler observes it (its objects by controller
// ownerReference, the shared objects of its namespace, what the graph reads), rendered
// with the graph, and each rendered object is put through the reconciler's own decisions
// (ownership, the no-op check) and then a server-side apply with loom's field manager in
// dry-run mode, whose result is compared with the live object. The only requests are GET,
// LIST and dry-run PATCH: nothing is written.

// DiffOptions say which instances Diff looks at and how.
type DiffOptions struct {
	// Config is the operator configuration the graph declares, as for Add.
	Config map[string]any
	// Namespace restricts Diff to the instances of one namespace; empty: every namespace.
	Namespace string
	// Name restricts Diff to one instance of Namespace.
	Name string
	// Concurrency is how many instances are diffed at once (16 when zero).
	Concurrency int
	// Progress, when set, is called after each instance with how many are done of how many.
	Progress func(done, total int)
	// Now is the clock of the status conditions; time.Now when nil.
	Now func() time.Time
}

// FieldChange is one field that differs, by its path in structured-merge-diff's notation
// (list items by key, as managedFields name them: `.spec.template.spec.containers[name="server"].image`).
// A field only one side has is absent (nil, Has false) on the other.
type FieldChange struct {
	Path   string `json:"path"`
	Old    any    `json:"old,omitempty"`
	New    any    `json:"new,omitempty"`
	HasOld bool   `json:"hasOld"`
	HasNew bool   `json:"hasNew"`
}

// ObjectDiff is what the graph would do to one object.
type ObjectDiff struct {
	Node      string `json:"node"` // the resource id
	Action    Action `json:"action"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Fields that would change (Configured, Adopted); empty for the other actions.
	Fields []FieldChange `json:"fields,omitempty"`
	// Error is why an apply would fail (Refused), or why loom replaces the object.
	Error string `json:"error,omitempty"`
}

// InstanceDiff is what the graph would do to one instance.
type InstanceDiff struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Objects that would change, in the graph's order, then those pruned. Objects that
	// would stay as they are are not listed.
	Objects []ObjectDiff `json:"objects,omitempty"`
	// Status lists the fields of the instance's status that would change.
	Status []FieldChange `json:"status,omitempty"`
	// Notes are what the render says about nodes that render nothing (Waiting, Error) and
	// errors no node shows: the reconciler applies nothing while any node fails.
	Notes []string `json:"notes,omitempty"`
	// Err is set when the instance could not be diffed (a request failed); the rest of
	// the fields are then incomplete.
	Err error `json:"-"`
}

// Changed reports whether applying the graph would change anything of the instance.
func (d *InstanceDiff) Changed() bool {
	for _, o := range d.Objects {
		if o.Action != Refused {
			return true
		}
	}
	return len(d.Status) > 0
}

// DiffReport is the outcome of Diff: every instance, by namespace then name.
type DiffReport struct {
	Kind      string // the graph's instance kind
	Instances []InstanceDiff
}

// DiffCounts sums a report up.
type DiffCounts struct {
	Instances, Changed, Unchanged, Failed int // instances; Failed: could not be diffed
	Objects                               map[Action]int
	Status                                int // instances whose status would change
}

// Counts sums the report up.
func (r *DiffReport) Counts() DiffCounts {
	c := DiffCounts{Instances: len(r.Instances), Objects: map[Action]int{}}
	for i := range r.Instances {
		d := &r.Instances[i]
		switch {
		case d.Err != nil:
			c.Failed++
		case d.Changed():
			c.Changed++
		default:
			c.Unchanged++
		}
		for _, o := range d.Objects {
			c.Objects[o.Action]++
		}
		if len(d.Status) > 0 {
			c.Status++
		}
	}
	return c
}

// Diff reports what reconciling every instance of g (or those opts selects) with g would
// change, as the user of cfg, without changing anything.
func Diff(ctx context.Context, cfg *rest.Config, g *graph.Graph, opts DiffOptions) (*DiffReport, error) {
	if g.Instance == nil {
		return nil, fmt.Errorf("graph %s has no instance kind", g.Name)
	}
	if _, err := g.ConfigValues(opts.Config); err != nil {
		return nil, err
	}
	x, err := newDiffer(cfg, g, opts)
	if err != nil {
		return nil, err
	}
	insts, err := x.instances(ctx)
	if err != nil {
		return nil, err
	}
	if err := x.findServed(); err != nil {
		return nil, err
	}
	if x.inv, err = x.inventory(ctx); err != nil {
		return nil, err
	}
	if x.reads, err = x.readAll(ctx); err != nil {
		return nil, err
	}

	report := &DiffReport{Kind: g.Instance.GVK.Kind, Instances: x.each(ctx, insts)}
	dedupeShared(g, report)
	return report, ctx.Err()
}

// each diffs insts, x.opts.Concurrency at a time; the results are in insts' order. Once
// ctx is done, the instances not yet started are left out (their entries stay empty).
func (x *differ) each(ctx context.Context, insts []*unstructured.Unstructured) []InstanceDiff {
	out := make([]InstanceDiff, len(insts))
	var group errgroup.Group
	group.SetLimit(x.opts.Concurrency)
	var done atomic.Int64
	for i, inst := range insts {
		if ctx.Err() != nil {
			break
		}
		group.Go(func() error {
			out[i] = x.instance(ctx, inst)
			if n := done.Add(1); x.opts.Progress != nil {
				x.opts.Progress(int(n), len(insts))
			}
			return nil
		})
	}
	_ = group.Wait() // no job returns an error: each instance's error is in its entry
	return out
}

// differ holds what every instance's diff shares: clients, and what was listed once for
// the whole run.
type differ struct {
	g       *graph.Graph
	opts    DiffOptions
	dynamic dynamic.Interface
	mapper  meta.RESTMapper
	// r is a reconciler with no cache: Diff uses its ownership decisions (claim) and its
	// applier, in dry-run mode.
	r     *reconciler
	inv   *inventory
	reads *readData
	// served says which kinds the graph renders or reads the API server serves: a kind
	// whose CRD is not installed (cert-manager's, Traefik's) has no objects to list, and
	// an object of it cannot be applied.
	served map[schema.GroupVersionKind]bool
}

func newDiffer(cfg *rest.Config, g *graph.Graph, opts DiffOptions) (*differ, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, hc)
	if err != nil {
		return nil, err
	}
	tc, err := g.Schemas.TypeConverter()
	if err != nil {
		return nil, fmt.Errorf("building the type converter: %w", err)
	}
	a := &applier{dynamic: dyn, mapper: mapper, types: tc, fieldHashes: map[string][32]byte{}}
	return &differ{g: g, opts: opts, dynamic: dyn, mapper: mapper,
		r: &reconciler{graph: g, config: opts.Config, applier: a}}, nil
}

// resource is the client of gvk's resource, in namespace ns ("" for all) if namespaced.
func (x *differ) resource(gvk schema.GroupVersionKind, ns string) (dynamic.ResourceInterface, error) {
	m, err := x.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("the cluster does not serve %s, which graph %s uses: install its CRD (the operator needs it too): %w", gvk, x.g.Name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace && ns != "" {
		return x.dynamic.Resource(m.Resource).Namespace(ns), nil
	}
	return x.dynamic.Resource(m.Resource), nil
}

// list lists every object of gvk in ns ("" for all) matching selector, 500 a page.
func (x *differ) list(ctx context.Context, gvk schema.GroupVersionKind, ns, selector string) ([]*unstructured.Unstructured, error) {
	ri, err := x.resource(gvk, ns)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	opts := metav1.ListOptions{LabelSelector: selector, Limit: 500}
	for {
		page, err := ri.List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		for i := range page.Items {
			obj := &page.Items[i]
			obj.SetGroupVersionKind(gvk)
			out = append(out, obj)
		}
		if opts.Continue = page.GetContinue(); opts.Continue == "" {
			return out, nil
		}
	}
}

// findServed asks the REST mapper which of the graph's kinds the API server serves.
func (x *differ) findServed() error {
	x.served = map[schema.GroupVersionKind]bool{}
	var kinds []schema.GroupVersionKind
	for _, n := range x.g.Nodes {
		kinds = append(kinds, n.Kind.GVK)
	}
	for _, rd := range x.g.Reads {
		kinds = append(kinds, rd.Kind.GVK)
	}
	for _, gvk := range kinds {
		_, err := x.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		switch {
		case err == nil:
			x.served[gvk] = true
		case !meta.IsNoMatchError(err):
			return fmt.Errorf("%s: %w", gvk, err)
		}
	}
	return nil
}

// instances lists the instances to diff, by namespace then name; deleted ones are left
// out, as the reconciler leaves them alone.
func (x *differ) instances(ctx context.Context) ([]*unstructured.Unstructured, error) {
	gvk := x.g.Instance.GVK
	var all []*unstructured.Unstructured
	if x.opts.Name != "" {
		ri, err := x.resource(gvk, x.opts.Namespace)
		if err != nil {
			return nil, err
		}
		obj, err := ri.Get(ctx, x.opts.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, x.opts.Namespace, x.opts.Name, err)
		}
		all = append(all, obj)
	} else {
		var err error
		if all, err = x.list(ctx, gvk, x.opts.Namespace, ""); err != nil {
			return nil, err
		}
	}
	out := all[:0]
	for _, obj := range all {
		if obj.GetDeletionTimestamp() == nil {
			out = append(out, obj)
		}
	}
	slices.SortFunc(out, func(a, b *unstructured.Unstructured) int {
		return strings.Compare(a.GetNamespace()+"/"+a.GetName(), b.GetNamespace()+"/"+b.GetName())
	})
	return out, nil
}

// inventory holds loom's objects of the graph's kinds as the reconciler's cache holds
// them: by the UID of their controller, and the shared ones by namespace and node.
type inventory struct {
	byOwner map[types.UID][]*unstructured.Unstructured
	shared  map[sharedKey]*unstructured.Unstructured
}

type sharedKey struct{ namespace, node string }

// inventory lists, once for the run, every object of each kind the graph renders that
// carries the graph's label (what the reconciler's informers hold).
func (x *differ) inventory(ctx context.Context) (*inventory, error) {
	inv := &inventory{byOwner: map[types.UID][]*unstructured.Unstructured{}, shared: map[sharedKey]*unstructured.Unstructured{}}
	r := &reconciler{graph: x.g}
	for _, gvk := range r.childKinds() {
		if !x.served[gvk] {
			continue // no CRD, no object
		}
		objs, err := x.list(ctx, gvk, x.opts.Namespace, applied.LabelGraph+"="+x.g.Name)
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			if ref := metav1.GetControllerOf(obj); ref != nil {
				inv.byOwner[ref.UID] = append(inv.byOwner[ref.UID], obj)
			}
			labels := obj.GetLabels()
			if _, own := labels[applied.LabelInstance]; !own && labels[applied.LabelNode] != "" {
				if n, ok := x.g.Node(labels[applied.LabelNode]); ok && n.Shared && n.Kind.GVK == gvk {
					inv.shared[sharedKey{obj.GetNamespace(), n.ID}] = obj
				}
			}
		}
	}
	return inv, nil
}

// observe is the reconciler's observe over the inventory: the objects inst controls, and
// its live object by node id (shared nodes: the shared object of its namespace).
func (inv *inventory) observe(g *graph.Graph, inst *unstructured.Unstructured) (owned []*unstructured.Unstructured, live map[string]*unstructured.Unstructured) {
	owned = inv.byOwner[inst.GetUID()]
	live = map[string]*unstructured.Unstructured{}
	for _, obj := range owned {
		if n, ok := g.Node(obj.GetLabels()[applied.LabelNode]); ok && !n.Shared && n.Kind.GVK == obj.GroupVersionKind() {
			live[liveKey(n, obj.Object)] = obj
		}
	}
	for _, n := range g.Nodes {
		if obj, ok := inv.shared[sharedKey{inst.GetNamespace(), n.ID}]; ok && n.Shared {
			live[n.ID] = obj
		}
	}
	return owned, live
}

// dedupeShared keeps each shared object's diff once: every instance of a namespace renders
// it, and the first apply makes the others no-ops.
func dedupeShared(g *graph.Graph, report *DiffReport) {
	seen := map[string]bool{}
	for i := range report.Instances {
		d := &report.Instances[i]
		kept := d.Objects[:0]
		for _, o := range d.Objects {
			if n, ok := g.Node(o.Node); ok && n.Shared && o.Action != Pruned {
				key := o.Kind + "/" + o.Namespace + "/" + o.Name
				if seen[key] {
					continue
				}
				seen[key] = true
			}
			kept = append(kept, o)
		}
		d.Objects = kept
	}
}
