package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		code := 1
		var exit *exitError
		if errors.As(err, &exit) {
			code = exit.code
		}
		if exit == nil || exit.err != nil {
			fmt.Fprintln(os.Stderr, "loom:", err)
		}
		os.Exit(code)
	}
}

// exitError ends loom with an exit status other than 1, for commands whose status says
// more than failed or not (loom diff: 1 when something would change). err, when set, is
// printed first.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

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
	// subcommands, one file each
	)
	return root
}
