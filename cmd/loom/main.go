package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "loom:", err)
		var exit *exitError
		if errors.As(err, &exit) {
			os.Exit(exit.Code)
		}
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "loom",
		Short:         "loom runs MCP servers on Kubernetes from a CEL-templated resource graph",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newDiffCmd(),
		newLocalCmd(),
		newOperatorCmd(),
		newRBACCmd(),
		newRenderCmd(),
		newValidateCmd(),
		newTestCmd(),
		newVersionCmd(),
		newCELCmd(),
		newSchemaCmd(),
	// subcommands, one file each
	)
	return root
}

// exitError makes the loom binary exit with Code (not 1) after printing Err.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string { return e.Err.Error() }
func (e *exitError) Unwrap() error { return e.Err }
