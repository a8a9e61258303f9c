package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
	"github.com/loom-mcp/loom/internal/controlplane"
)

// desired is what the graph renders for the fleet: each server's own objects, and the
// shared ones once per namespace.
type desired struct {
	own    [][]*unstructured.Unstructured // by server index
	shared []*unstructured.Unstructured
	// objects counts the objects to apply: each server's own, and the shared ones once.
	objects int
	// renderTime is the engine's time to render the whole fleet, one server after another.
	renderTime time.Duration
}

// renderFleet renders every server of the fleet with the engine, as the operator would,
// and labels the objects as the operator does.
func renderFleet(ctx context.Context, g *graph.Graph, n, namespaces int) (*desired, error) {
	d := &desired{own: make([][]*unstructured.Unstructured, n)}
	seen := map[string]bool{}
	cfg := map[string]any{"gatewayProxyImage": gatewayImage}
	for i := range n {
		inst := server(i, namespaces)
		if err := g.Schemas.Default(inst.Object); err != nil {
			return nil, err
		}
		begin := time.Now()
		res, err := render.Render(ctx, g, render.Input{Instance: inst.Object, Config: cfg})
		d.renderTime += time.Since(begin)
		if err != nil {
			return nil, err
		}
		if len(res.Errors) > 0 {
			return nil, fmt.Errorf("%s: %v", inst.GetName(), res.Errors)
		}
		for _, node := range res.Nodes {
			if node.State == render.Skipped {
				continue
			}
			if node.State != render.Rendered {
				return nil, fmt.Errorf("%s: node %s: %s: %s", inst.GetName(), node.ID, node.State, node.Reason)
			}
			obj := &unstructured.Unstructured{Object: node.Object}
			labels := obj.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[applied.LabelGraph], labels[applied.LabelNode] = g.Name, node.ID
			if n, _ := g.Node(node.ID); n.Shared {
				obj.SetLabels(labels)
				key := obj.GetNamespace() + "/" + obj.GetKind() + "/" + obj.GetName()
				if !seen[key] {
					seen[key] = true
					d.shared = append(d.shared, obj)
				}
				continue
			}
			labels[applied.LabelInstance] = inst.GetName()
			obj.SetLabels(labels)
			d.own[i] = append(d.own[i], obj)
		}
	}
	for _, own := range d.own {
		d.objects += len(own)
	}
	d.objects += len(d.shared)
	return d, nil
}

// runFloor measures the same fleet with no operator: the MCPServers created as in the loom
// run, and the objects loom would render for each applied directly with server-side apply
// as soon as its MCPServer exists (they carry its ownerReference, as loom's do), by a
// client with the operator's QPS and burst. It is the best any operator could do.
func runFloor(ctx context.Context, c config, g *graph.Graph, want *desired) (res *result, err error) {
	res = &result{Mode: "floor", Started: time.Now(), LoadStart: loadAverage()}
	cp, err := controlplane.Start(ctx, controlplane.WithAuditLog())
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, cp.Stop()) }()
	fmt.Printf("floor: control plane ready in %.1fs\n", cp.ReadyIn.Seconds())
	if err := prepare(ctx, cp, g, c.namespaces); err != nil {
		return nil, err
	}
	t, err := newTracker(ctx, cp.AdminConfig(), c.n)
	if err != nil {
		return nil, err
	}
	client := cp.AdminConfig()
	client.QPS, client.Burst = float32(c.qps), c.burst
	client.UserAgent = "loom-bench-floor"
	dyn, err := dynamic.NewForConfig(client)
	if err != nil {
		return nil, err
	}

	// The appliers: as many requests in flight as the operator can have (concurrency ×
	// the nodes of a server), the client's rate limit shared by all.
	res.Appliers = c.concurrency * len(g.Nodes)
	pool := startAppliers(ctx, dyn, res.Appliers, want.objects)

	before, err := snapshot(cp, 0)
	if err != nil {
		return nil, err
	}
	t.begin()
	for _, obj := range want.shared {
		pool.jobs <- obj
	}
	yes := true
	res.Created, err = createFleet(ctx, userConfig(cp), c.n, c.namespaces, func(inst *unstructured.Unstructured) {
		var i int
		if _, err := fmt.Sscanf(inst.GetName(), "mcp-%d", &i); err != nil {
			panic(err)
		}
		ref := metav1.OwnerReference{APIVersion: inst.GetAPIVersion(), Kind: inst.GetKind(), Name: inst.GetName(),
			UID: inst.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}
		for _, obj := range want.own[i] {
			obj.SetOwnerReferences([]metav1.OwnerReference{ref})
			pool.jobs <- obj
		}
	})
	applyErr := pool.wait()
	if err != nil {
		return nil, err
	}
	if applyErr != nil {
		return nil, applyErr
	}
	res.Applies = want.objects
	p, waitErr := t.wait(ctx, "floor", c.timeout, func(p progress) bool { return p.objects >= c.n })
	res.Objects, res.ObjectsCount = p.objectsLast, p.objects
	after, err := snapshot(cp, 0)
	if err != nil {
		return nil, err
	}
	res.Usage = after.minus(before)
	res.Err = waitErr
	res.LoadEnd = loadAverage()
	fmt.Printf("floor: %d/%d ready in %.1fs\n", p.objects, c.n, p.objectsLast.Seconds())
	return res, nil
}

// appliers server-side apply the objects sent on jobs, with n goroutines sharing one
// client. The first failed apply cancels the others; jobs is buffered for every object of
// the run, so sending never blocks, even after they stopped.
type appliers struct {
	jobs  chan *unstructured.Unstructured
	group *errgroup.Group
}

func startAppliers(ctx context.Context, dyn dynamic.Interface, n, buffer int) *appliers {
	group, ctx := errgroup.WithContext(ctx)
	a := &appliers{jobs: make(chan *unstructured.Unstructured, buffer), group: group}
	for range n {
		group.Go(func() error {
			for obj := range a.jobs {
				gvr, _ := meta.UnsafeGuessKindToResource(obj.GroupVersionKind())
				_, err := dyn.Resource(gvr).Namespace(obj.GetNamespace()).Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "loom-floor", Force: true})
				if err != nil {
					return fmt.Errorf("apply %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
				}
			}
			return nil
		})
	}
	return a
}

// wait closes jobs, waits for the appliers, and returns the first error: without one,
// every object sent was applied.
func (a *appliers) wait() error {
	close(a.jobs)
	return a.group.Wait()
}
