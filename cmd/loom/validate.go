package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/loom-mcp/loom/engine/input"
)

func newValidateCmd() *cobra.Command {
	var crds []string
	cmd := &cobra.Command{
		Use:   "validate GRAPH [--crd FILE]...",
		Short: "Load a graph and type-check every expression, without rendering",
		Long: `Validate loads a ResourceGraph the way the operator does at start-up: it parses it,
types the instance from its CRD (--crd) and every resource from its kind's schema, compiles
and type-checks every expression, and orders the resources by their references. Every
problem is printed with file:line:col, the resource id, the field path and the expression.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := input.Graph(args[0], args[0], crds...)
			if err != nil {
				return err
			}
			ids := make([]string, len(g.Nodes))
			for i, n := range g.Nodes {
				ids[i] = n.ID
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: %d resources (%v), %d vars, %d checks\n", args[0], len(g.Nodes), ids, len(g.Vars), len(g.Checks))
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&crds, "crd", nil, "a CustomResourceDefinition file that types the instance (repeatable)")
	return cmd
}
