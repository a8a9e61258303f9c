package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/input"
	"github.com/loom-mcp/loom/engine/render"
)

// renderFlags are loom render's flags.
type renderFlags struct {
	graph, instance, config, observed string
	crds                              []string
	status                            bool
}

func newRenderCmd() *cobra.Command {
	var f renderFlags
	cmd := &cobra.Command{
		Use:   "render -g GRAPH -f INSTANCE [--config FILE] [--observed DIR] [--crd FILE]...",
		Short: "Print the objects a graph renders for one instance, as a YAML stream",
		Long: `Render runs the graph exactly as the operator does, with no cluster: the instance
(with its CRD's defaults applied, and validated), the operator configuration, and the
objects observed so far (DIR/<id>.yaml, one file per resource id; for a read, the object
read by name, or a List of a collection's candidates) go in; the desired
objects come out in dependency order. Nodes that were skipped, are waiting for data, or
failed are listed as comments first, then the errors no node shows (a var that failed).
With --status, the status the graph computes follows the objects. Files are read as
` + "`loom test`" + ` reads them (at most 3 MiB each); a render stops after 5 seconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRender(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.graph, "graph", "g", "", "the ResourceGraph file")
	fl.StringVarP(&f.instance, "instance", "f", "", "the instance object (YAML or JSON)")
	fl.StringVar(&f.config, "config", "", "operator configuration: a YAML map of the graph's config keys")
	fl.StringVar(&f.observed, "observed", "", "a directory of observed objects, DIR/<id>.yaml")
	fl.StringArrayVar(&f.crds, "crd", nil, "a CustomResourceDefinition file that types the instance (repeatable)")
	fl.BoolVar(&f.status, "status", false, "also print the status computed from the observed objects")
	_ = cmd.MarkFlagRequired("graph")
	_ = cmd.MarkFlagRequired("instance")
	return cmd
}

// readRenderInput reads the graph and everything a render of it takes.
func readRenderInput(f renderFlags) (*graph.Graph, render.Input, error) {
	in := render.Input{Validate: true}
	g, err := input.Graph(f.graph, f.graph, f.crds...)
	if err != nil {
		return nil, in, err
	}
	if in.Instance, err = input.Instance(f.instance, g); err != nil {
		return nil, in, err
	}
	if f.config != "" {
		if in.Config, err = input.Config(f.config); err != nil {
			return nil, in, err
		}
	}
	if f.observed != "" {
		if in.Observed, err = input.Observed(f.observed, g); err != nil {
			return nil, in, err
		}
	}
	return g, in, nil
}

func runRender(ctx context.Context, out io.Writer, f renderFlags) error {
	g, in, err := readRenderInput(f)
	if err != nil {
		return err
	}
	res, err := render.Render(ctx, g, in)
	if err != nil {
		return err
	}
	for _, n := range res.Nodes {
		if n.State != render.Rendered {
			fmt.Fprintf(out, "# %s: %s (%s)\n", n.ID, n.State, n.Reason)
		}
	}
	for _, e := range res.OtherErrors() {
		fmt.Fprintf(out, "# error: %s\n", e)
	}
	for _, n := range res.Nodes {
		if n.State == render.Rendered {
			if err := writeDoc(out, n.Object); err != nil {
				return err
			}
		}
	}
	if f.status {
		rep, err := render.Status(ctx, g, in, res, render.StatusOptions{Now: time.Now()})
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "# status")
		if err := writeDoc(out, map[string]any{"status": rep.Status}); err != nil {
			return err
		}
	}
	if res.Invalid {
		return fmt.Errorf("the instance cannot work: %v", res.Errors)
	}
	return nil
}

func writeDoc(w io.Writer, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "---\n%s", data)
	return err
}
