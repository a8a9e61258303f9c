package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/input"
	"github.com/loom-mcp/loom/engine/render"
	"github.com/loom-mcp/loom/templates"
)

// renderFlags are loom render's flags.
type renderFlags struct {
	graph, instance, config, observed, output string
	crds, set                                 []string
	status, plain                             bool
}

func newRenderCmd() *cobra.Command {
	var f renderFlags
	cmd := &cobra.Command{
		Use:   "render -f INSTANCE|- [-g GRAPH --crd FILE...] [--config FILE] [--set KEY=VALUE]... [--observed DIR] [-o yaml|json]",
		Short: "Print the objects a graph renders for each instance, as the operator applies them",
		Long: `Render runs the graph exactly as the operator does, with no cluster, for every instance
of the file (a YAML stream of documents, or JSON; "-" reads standard input). Each instance is
first checked as the API server would check it with its CRD: the schema's types, required
fields, patterns, enums, bounds and formats, x-kubernetes-validations rules, unknown fields
and fields given twice; every violation is printed with its field path, and nothing renders.

Then the operator configuration (--config, with --set KEY=VALUE over it, each value read as
its key's declared type, as the operator reads them), and the objects observed so far
(DIR/<id>.yaml, one file per resource id; for a read, the object read by name, or a List of
a collection's candidates; for a resource with forEach, a List of its objects) go in; the desired objects come out in dependency order, each
checked as the API server would check it, in the form the operator applies it: with loom's
labels, the intent annotation and the ownerReference to the instance, whose uid is the
instance's metadata.uid (empty for an instance that never was in a cluster; the API server
refuses such a reference, so the output cannot be applied to no owner by mistake). --plain
prints the objects as the templates make them.

Nodes that were skipped, are waiting for data, or failed are listed as comments first
(with -o json, on standard error), then the errors no node shows. With --status, the status
the graph computes follows the objects, checked against the instance's CRD. -o json prints
one v1 List of every object.
Files are read as ` + "`loom test`" + ` reads them (at most 3 MiB each); a render stops after
5 seconds.

Exit status: 0 when every node of every instance rendered or was skipped; 1 when a node is
in Error or waiting for data, an instance fails a check of the graph, an object as loom
applies it would be refused (its labels carry the graph's and the instance's names), or on
any other error;
2 when the API server would refuse an instance.`,
		Example: `  loom render -f examples/gateway.yaml
  kubectl get mcpserver payments -o yaml | loom render -f - -o json
  loom render -g graph.yaml --crd crd.yaml -f app.yaml --set domain=apps.example.com --status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.output != "yaml" && f.output != "json" {
				return fmt.Errorf("-o %s: expected yaml or json", f.output)
			}
			return runRender(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.graph, "graph", "g", "", "the ResourceGraph file (default: the embedded MCPServer graph, typed by the embedded CRDs)")
	fl.StringVarP(&f.instance, "instance", "f", "", `the instances (YAML stream or JSON); "-" reads standard input`)
	fl.StringVar(&f.config, "config", "", "operator configuration: a YAML map of the graph's config keys")
	fl.StringArrayVar(&f.set, "set", nil, "a configuration value KEY=VALUE, over --config (repeatable)")
	fl.StringVar(&f.observed, "observed", "", "a directory of observed objects, DIR/<id>.yaml")
	fl.StringArrayVar(&f.crds, "crd", nil, "a CustomResourceDefinition file that types the instance (repeatable; with -g)")
	fl.StringVarP(&f.output, "output", "o", "yaml", "yaml (a stream with comments) or json (a v1 List)")
	fl.BoolVar(&f.status, "status", false, "also print the status computed from the observed objects")
	fl.BoolVar(&f.plain, "plain", false, "print the objects as the templates make them, without loom's labels, annotation and ownerReference")
	_ = cmd.MarkFlagRequired("instance")
	return cmd
}

// errRenderIncomplete is render's exit status 1 once the node states are printed.
var errRenderIncomplete = errors.New("not every node rendered: see the nodes listed above (# <id>: <state>)")

// renderGraph loads -g, or the embedded MCPServer graph.
func renderGraph(f renderFlags) (*graph.Graph, error) {
	if f.graph == "" {
		if len(f.crds) > 0 {
			return nil, errors.New("--crd types the instance of a graph given with -g")
		}
		return templates.LoadMCPServer()
	}
	return input.Graph(f.graph, f.graph, f.crds...)
}

// readRenderInput reads the graph, the instances and what every render of them takes. An
// instance the API server would refuse is an *exitError with code 2.
func readRenderInput(stdin io.Reader, f renderFlags) (*graph.Graph, []map[string]any, render.Input, error) {
	in := render.Input{Validate: true}
	g, err := renderGraph(f)
	if err != nil {
		return nil, nil, in, err
	}
	data, err := input.ReadSource(f.instance, stdin)
	if err != nil {
		return nil, nil, in, err
	}
	name := f.instance
	if name == input.Stdin {
		name = "standard input"
	}
	instances, err := input.Instances(name, data, g)
	var invalid *input.InvalidError
	if errors.As(err, &invalid) {
		return nil, nil, in, &exitError{Code: 2, Err: err}
	}
	if err != nil {
		return nil, nil, in, err
	}
	if in.Config, err = renderConfig(g, f); err != nil {
		return nil, nil, in, err
	}
	if f.observed != "" {
		if in.Observed, err = input.Observed(f.observed, g); err != nil {
			return nil, nil, in, err
		}
	}
	return g, instances, in, nil
}

// renderConfig is --config with --set over it, as the operator reads --set.
func renderConfig(g *graph.Graph, f renderFlags) (map[string]any, error) {
	cfg := map[string]any{}
	if f.config != "" {
		var err error
		if cfg, err = input.Config(f.config); err != nil {
			return nil, err
		}
	}
	return setConfig(g, cfg, f.set)
}

// rendered is what one instance gave.
type rendered struct {
	inst    map[string]any
	res     *render.Result
	objects []map[string]any
	status  map[string]any // with --status
	// refused: objects the API server would refuse once loom's labels, annotation and
	// ownerReference are on them (a label value longer than 63 characters, say), and a
	// status it would refuse.
	refused []string
}

// standInUID stands for the uid of an instance that has none while its objects are
// checked: an empty uid is refused on purpose (see the command's help).
const standInUID = "00000000-0000-0000-0000-000000000000"

// admitApplied checks obj, as the operator would apply it, as the API server would.
func admitApplied(ctx context.Context, g *graph.Graph, obj *unstructured.Unstructured) string {
	check := obj.DeepCopy()
	refs := check.GetOwnerReferences()
	for i := range refs {
		if refs[i].UID == "" {
			refs[i].UID = standInUID
		}
	}
	check.SetOwnerReferences(refs)
	if err := g.Schemas.Admit(ctx, check.Object); err != nil {
		return fmt.Sprintf("%s %s, as loom applies it: %v", obj.GetKind(), obj.GetName(), err)
	}
	return ""
}

func runRender(ctx context.Context, stdin io.Reader, out, errOut io.Writer, f renderFlags) error {
	g, instances, in, err := readRenderInput(stdin, f)
	if err != nil {
		return err
	}
	var all []rendered
	complete := true
	for _, inst := range instances {
		r, err := renderOne(ctx, g, inst, in, f)
		if err != nil {
			return fmt.Errorf("%s: %w", instanceName(inst), err)
		}
		complete = complete && r.complete()
		all = append(all, r)
	}
	if f.output == "json" {
		err = writeJSON(out, errOut, all, len(all) > 1)
	} else {
		err = writeYAML(out, all, len(all) > 1)
	}
	if err != nil {
		return err
	}
	if !complete {
		return errRenderIncomplete
	}
	return nil
}

// renderOne renders one instance, and its status with --status.
func renderOne(ctx context.Context, g *graph.Graph, inst map[string]any, in render.Input, f renderFlags) (rendered, error) {
	in.Instance = inst
	res, err := render.Render(ctx, g, in)
	if err != nil {
		return rendered{}, err
	}
	r := rendered{inst: inst, res: res}
	if f.plain {
		for _, n := range res.Nodes {
			if n.State == render.Rendered {
				r.objects = append(r.objects, n.Objects()...)
			}
		}
	} else {
		objs, err := applied.Objects(g, inst, res)
		if err != nil {
			return rendered{}, err
		}
		for _, o := range objs {
			r.objects = append(r.objects, o.Object)
			if msg := admitApplied(ctx, g, o); msg != "" {
				r.refused = append(r.refused, msg)
			}
		}
	}
	if f.status {
		rep, err := render.Status(ctx, g, in, res, render.StatusOptions{Now: time.Now()})
		if err != nil {
			return rendered{}, err
		}
		r.status = rep.Status
		if r.status == nil {
			r.status = map[string]any{}
		}
		if err := g.Schemas.AdmitStatus(ctx, inst, r.status); err != nil {
			r.refused = append(r.refused, "the status: "+err.Error())
		}
	}
	return r, nil
}

// complete: every node rendered or was skipped, and the render reported no error.
func (r rendered) complete() bool {
	if r.res.Invalid || len(r.res.Errors) > 0 || len(r.refused) > 0 {
		return false
	}
	for _, n := range r.res.Nodes {
		if n.State == render.Error || n.State == render.Waiting {
			return false
		}
	}
	return true
}

// notes are the comment lines of one instance: its nodes that did not render, and the
// errors no node shows.
func (r rendered) notes(named bool) []string {
	var out []string
	if named {
		out = append(out, "instance "+instanceName(r.inst))
	}
	for _, n := range r.res.Nodes {
		if n.State != render.Rendered {
			out = append(out, fmt.Sprintf("%s: %s (%s)", n.ID, n.State, n.Reason))
		}
	}
	for _, e := range append(r.res.OtherErrors(), r.refused...) {
		out = append(out, "error: "+e)
	}
	return out
}

func writeYAML(out io.Writer, all []rendered, named bool) error {
	for _, r := range all {
		for _, note := range r.notes(named) {
			fmt.Fprintln(out, "# "+strings.ReplaceAll(note, "\n", "\n#   "))
		}
		for _, obj := range r.objects {
			if err := writeDoc(out, obj); err != nil {
				return err
			}
		}
		if r.status != nil {
			fmt.Fprintln(out, "# status")
			if err := writeDoc(out, map[string]any{"status": r.status}); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeJSON prints one v1 List of every object; notes and statuses go to errOut, so out
// parses as JSON.
func writeJSON(out, errOut io.Writer, all []rendered, named bool) error {
	items := []any{}
	for _, r := range all {
		for _, note := range r.notes(named) {
			fmt.Fprintln(errOut, "# "+strings.ReplaceAll(note, "\n", "\n#   "))
		}
		for _, obj := range r.objects {
			items = append(items, obj)
		}
		if r.status != nil {
			data, err := json.Marshal(map[string]any{"status": r.status})
			if err != nil {
				return err
			}
			fmt.Fprintf(errOut, "# status of %s: %s\n", instanceName(r.inst), data)
		}
	}
	data, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", data)
	return err
}

// instanceName is "Kind namespace/name".
func instanceName(inst map[string]any) string {
	u := unstructured.Unstructured{Object: inst}
	if u.GetNamespace() == "" {
		return u.GetKind() + " " + u.GetName()
	}
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

func writeDoc(w io.Writer, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "---\n%s", data)
	return err
}
