package main

import (
	"github.com/spf13/cobra"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/parse"
)

func newCELCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cel",
		Short: "Print, as Markdown, every variable, macro, operator and function a graph's CEL can use",
		Long: `Cel prints the reference of loom's CEL environment as Markdown: the variables a graph's
expressions read, the macros, and every operator and function with its signatures, by
library, from the environment itself; loom's own functions with a description and an
example. docs/cel.md is its output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cel.Reference(cmd.OutOrStdout(), celVariables)
		},
	}
}

// celVariables are the built-in variables (parse.Builtins) and the resource ids, as the
// reference describes them.
var celVariables = []cel.VariableDoc{
	{Name: parse.NameSchema, Type: "the instance's type, from its CRD", Where: "everywhere but a read's `instanceKey`", Description: "The instance, its CRD's defaults applied."},
	{Name: parse.NameDefaulted, Type: "the instance's type, from its CRD", Where: "everywhere but a read's `instanceKey`", Description: "The instance with its CRD's defaults applied under absent parents too (`spec.auth.mode` when `spec.auth` is unset): a view for reading defaults, not what the API server stores. Read presence from `schema`."},
	{Name: parse.NameConfig, Type: "an object of the declared `spec.config` keys", Where: "everywhere but a read's `instanceKey`", Description: "The operator configuration the graph declares."},
	{Name: parse.NameVars + ".<name>", Type: "the var's expression's", Where: "other vars, checks, templates, includeWhen, readyWhen, status, a read's name and filter; a status var only in status and other status vars", Description: "Each var of `spec.vars`, computed after the vars it reads. A var that reads `ready.<id>`, `errors`, `allReady`, `anyReady` or a status var is a status var, computed once readiness is known; it may also read observed objects."},
	{Name: "<id>", Type: "the resource's kind, from its schema; a list of it for a collection read or a resource with forEach", Where: "templates, includeWhen, readyWhen, status, status vars (not other vars or checks)", Description: "The object of resource `<id>` last observed in the cluster (a read's object or items; for forEach, its items' objects in item order, once all are observed). Reading it makes an edge: the reader renders after it."},
	{Name: parse.NameReady + ".<id>", Type: "bool", Where: "status, status vars", Description: "Whether resource `<id>` is ready: rendered, observed, and passing its readyWhen (without one, its kind's default readiness)."},
	{Name: parse.NameAllReady, Type: "bool", Where: "status, status vars", Description: "Whether every resource the instance waits for is ready: those not skipped and not marked `ignoreReadiness`. True when there is none."},
	{Name: parse.NameAnyReady, Type: "bool", Where: "status, status vars", Description: "Whether any resource the instance waits for is ready."},
	{Name: parse.NameErrors, Type: "list(string)", Where: "status, status vars", Description: "The errors a person should read: failed checks, evaluation errors, the API server's errors."},
	{Name: parse.NameItem, Type: "the read kind's", Where: "a collection read's instanceKey and filter", Description: "One item of the collection."},
	{Name: parse.NameEach, Type: "the element type of the forEach list", Where: "the template of a resource with forEach; the rule, field and message of a check with forEach", Description: "The item whose object the template renders (metadata.name must read it), or that the check is made for."},
}
