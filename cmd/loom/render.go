package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/readiness"
	"github.com/loom-mcp/loom/engine/render"
)

func newRenderCmd() *cobra.Command {
	var (
		graphPath, instancePath, configPath, observedDir string
		crds                                             []string
		status                                           bool
	)
	cmd := &cobra.Command{
		Use:   "render -g GRAPH -f INSTANCE [--config FILE] [--observed DIR] [--crd FILE]...",
		Short: "Print the objects a graph renders for one instance, as a YAML stream",
		Long: `Render runs the graph exactly as the operator does, with no cluster: the instance
(with its CRD's defaults applied), the operator configuration, and the objects observed so
far (DIR/<id>.yaml, one file per resource id; for a read, the object read by name, or a
List of a collection's candidates) go in; the desired objects come out in
dependency order. Nodes that were skipped, are waiting for data, or failed are listed as
comments first. With --status, the status the graph computes follows the objects.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, set, err := loadGraph(graphPath, crds)
			if err != nil {
				return err
			}
			inst, err := readObject(instancePath)
			if err != nil {
				return err
			}
			// As kubectl does, an instance with no namespace lands in "default".
			if md, ok := inst["metadata"].(map[string]any); ok && md["namespace"] == nil {
				md["namespace"] = "default"
			}
			if err := set.Default(inst); err != nil {
				return fmt.Errorf("%s: %w", instancePath, err)
			}
			var cfg map[string]any
			if configPath != "" {
				if cfg, err = readObject(configPath); err != nil {
					return err
				}
			}
			observed, err := readObserved(observedDir, g)
			if err != nil {
				return err
			}
			in := render.Input{Instance: inst, Config: cfg, Observed: observed, Validate: true}
			res, err := render.Render(cmd.Context(), g, in)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, n := range res.Nodes {
				if n.State != render.Rendered {
					fmt.Fprintf(out, "# %s: %s (%s)\n", n.ID, n.State, n.Reason)
				}
			}
			for _, n := range res.Nodes {
				if n.State == render.Rendered {
					if err := writeDoc(out, n.Object); err != nil {
						return err
					}
				}
			}
			if status {
				rep, err := readiness.Evaluate(cmd.Context(), g, in, res, readiness.Options{Now: time.Now()})
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
		},
	}
	f := cmd.Flags()
	f.StringVarP(&graphPath, "graph", "g", "", "the ResourceGraph file")
	f.StringVarP(&instancePath, "instance", "f", "", "the instance object (YAML or JSON)")
	f.StringVar(&configPath, "config", "", "operator configuration: a YAML map of the graph's config keys")
	f.StringVar(&observedDir, "observed", "", "a directory of observed objects, DIR/<id>.yaml")
	f.StringArrayVar(&crds, "crd", nil, "a CustomResourceDefinition file that types the instance (repeatable)")
	f.BoolVar(&status, "status", false, "also print the status computed from the observed objects")
	_ = cmd.MarkFlagRequired("graph")
	_ = cmd.MarkFlagRequired("instance")
	return cmd
}

func writeDoc(w io.Writer, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "---\n%s", data)
	return err
}
