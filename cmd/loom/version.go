package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/loom-mcp/loom/internal/version"
)

func newVersionCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version [-o json]",
		Short: "Print loom's version, the commit it was built from and its Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := version.Get()
			switch output {
			case "":
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "loom %s\ncommit: %s\ngo: %s\n", info.Version, info.Commit, info.GoVersion)
				return err
			case "json":
				data, err := json.MarshalIndent(info, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", data)
				return err
			default:
				return fmt.Errorf("-o %q: the output formats are json, or none for text", output)
			}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json (default: text)")
	return cmd
}
