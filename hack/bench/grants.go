package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/loom-mcp/loom/internal/controlplane"
)

// With -grants K, every MCPServer of the fleet gets K MCPAccessGrants, created right after
// the servers (so the time to all Ready includes them), and after the idle window one grant
// of a server with a gateway changes: the run records what that change cost.

// grantChange is what one grant change cost: the operator's reconciles (from its metrics)
// and requests (from the audit log) from the patch until 2 s after the policy held it.
type grantChange struct {
	Server     string
	Took       time.Duration // from the patch until the policy ConfigMap held the change
	Reconciles int
	Requests   map[string]int
}

// grant is the j-th grant of the i-th server: in the server's namespace for even j, in the
// next namespace (a cross-namespace serverRef) for odd j.
func grant(i, j, namespaces int) *unstructured.Unstructured {
	srv := server(i, namespaces)
	ns := srv.GetNamespace()
	ref := map[string]any{"name": srv.GetName()}
	if j%2 == 1 {
		ns = namespace(i+1, namespaces)
		ref["namespace"] = srv.GetNamespace()
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPAccessGrant",
		"metadata": map[string]any{"name": fmt.Sprintf("%s-g%d", srv.GetName(), j), "namespace": ns},
		"spec": map[string]any{
			"serverRef":          ref,
			"subject":            map[string]any{"humanID": fmt.Sprintf("user-%d", j)},
			"maxTrust":           "medium",
			"allowedSideEffects": []any{"read"},
		},
	}}
}

// createGrants creates per grants for each of the n servers, 32 at a time.
func createGrants(ctx context.Context, user *rest.Config, n, namespaces, per int) (time.Duration, error) {
	d, err := dynamic.NewForConfig(user)
	if err != nil {
		return 0, err
	}
	begin := time.Now()
	jobs := make(chan *unstructured.Unstructured)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range jobs {
				if _, err := d.Resource(grantGVR).Namespace(g.GetNamespace()).Create(ctx, g, metav1.CreateOptions{}); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("creating grant %s/%s: %w", g.GetNamespace(), g.GetName(), err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		for j := range per {
			jobs <- grant(i, j, namespaces)
		}
	}
	close(jobs)
	wg.Wait()
	return time.Since(begin), firstErr
}

// changeGrant changes the first grant of the fleet's first server with a gateway and
// measures what it cost.
func changeGrant(ctx context.Context, cp *controlplane.ControlPlane, op *operator, user *rest.Config, namespaces int) (*grantChange, error) {
	d, err := dynamic.NewForConfig(user)
	if err != nil {
		return nil, err
	}
	i := len(shapes) - 1 // "gateway on"
	g := grant(i, 0, namespaces)
	srv := server(i, namespaces)
	before, err := op.scrape()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if _, err := d.Resource(grantGVR).Namespace(g.GetNamespace()).Patch(ctx, g.GetName(), types.MergePatchType, []byte(`{"spec":{"maxTrust":"high"}}`), metav1.PatchOptions{}); err != nil {
		return nil, err
	}
	ch := &grantChange{Server: srv.GetNamespace() + "/" + srv.GetName()}
	for {
		cm, err := d.Resource(cmGVR).Namespace(srv.GetNamespace()).Get(ctx, srv.GetName()+"-gateway-policy", metav1.GetOptions{})
		if err == nil {
			raw, _, _ := unstructured.NestedString(cm.Object, "data", "policy.json")
			if strings.Contains(raw, `"max_trust":"high","name":"`+g.GetName()+`"`) {
				ch.Took = time.Since(start)
				break
			}
		}
		if time.Since(start) > time.Minute {
			return nil, fmt.Errorf("the policy of %s never held the changed grant", ch.Server)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	time.Sleep(2 * time.Second) // what the change set off settles
	after, err := op.scrape()
	if err != nil {
		return nil, err
	}
	ch.Reconciles = after.Reconciles - before.Reconciles
	if ch.Requests, err = cp.Audit.Count(start); err != nil {
		return nil, err
	}
	return ch, nil
}

func (r *report) grantsMarkdown() string {
	ch := get(r.Loom, func(r *result) *grantChange { return r.GrantChange })
	if r.C.grants == 0 || ch == nil {
		return ""
	}
	return fmt.Sprintf("\nOne grant change (maxTrust of a grant naming %s): its policy held it after %s; it cost %d reconciles and these requests of the operator: %s.\n",
		ch.Server, duration(ch.Took), ch.Reconciles, counts(ch.Requests))
}
