package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/loom-mcp/loom/engine/cases"
	"github.com/loom-mcp/loom/engine/parse"
)

// schemas are the files `loom schema` describes, by the argument that picks one.
var schemas = map[string]func() ([]byte, error){
	"graph": parse.JSONSchema,
	"suite": cases.SuiteSchema,
}

func newSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema [graph|suite]",
		Short: "Print the JSON Schema of a ResourceGraph file (graph, the default) or of a suite.yaml of loom test",
		Long: `Schema prints a JSON Schema (draft-07) for editors: of a ResourceGraph file (graph, the
default), from the keys the loader accepts, or of the suite.yaml of a directory of golden cases
(suite). config/schema/ holds both; a YAML file points yaml-language-server (VS Code's YAML
extension, and other editors') at one with a first-line comment:

  # yaml-language-server: $schema=../config/schema/resourcegraph.json

The schema checks structure (keys, their kinds, names of vars and ids, where an expression
must stand); loom validate checks the rest.`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"graph", "suite"},
		RunE: func(cmd *cobra.Command, args []string) error {
			which := "graph"
			if len(args) == 1 {
				which = args[0]
			}
			gen, ok := schemas[which]
			if !ok {
				return fmt.Errorf("no schema %q: expected graph or suite", which)
			}
			data, err := gen()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", data)
			return err
		},
	}
}
