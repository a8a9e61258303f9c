package parse

import (
	"slices"
	"strings"
)

// The built-in names: the variables every expression may read besides the resource ids.
// This is their one list; the parser reserves them, the type checker declares them and the
// renderer resolves them.
const (
	// NameSchema is the instance, its CRD's defaults applied.
	NameSchema = "schema"
	// NameDefaulted is the instance with its CRD's defaults applied under absent parents
	// too: a view for reading defaults, not what the API server stores.
	NameDefaulted = "defaulted"
	// NameConfig is the operator configuration the graph declares.
	NameConfig = "config"
	// NameVars prefixes each var: vars.<name>.
	NameVars = "vars"
	// NameReady prefixes each resource's readiness, in status and status vars: ready.<id>.
	NameReady = "ready"
	// NameErrors is the list of errors a person should read, in status and status vars.
	NameErrors = "errors"
	// NameAllReady is whether every resource the instance waits for is ready, in status and
	// status vars: the resources neither skipped nor marked ignoreReadiness.
	NameAllReady = "allReady"
	// NameAnyReady is whether any resource the instance waits for is ready.
	NameAnyReady = "anyReady"
	// NameItem is one item of a collection read, in its instanceKey and filter.
	NameItem = "item"
	// NameEach is one item of a collection's forEach list, in its template.
	NameEach = "each"
)

// Builtins are the built-in names; no resource id or var may take one.
var Builtins = []string{NameSchema, NameDefaulted, NameConfig, NameVars, NameReady, NameErrors, NameAllReady, NameAnyReady, NameItem, NameEach}

// StatusOnly are the built-in names only the status phase has (each read as a prefix of a
// qualified name too: ready.<id>): a var that reads one is a status var.
var StatusOnly = []string{NameReady, NameErrors, NameAllReady, NameAnyReady}

// IsStatusOnly reports whether a variable as an expression reads it ("errors",
// "ready.deployment") exists only in the status phase.
func IsStatusOnly(variable string) bool { return headIn(variable, StatusOnly) }

// headIn reports whether the first part of a qualified name is one of names.
func headIn(variable string, names []string) bool {
	head, _, _ := strings.Cut(variable, ".")
	return slices.Contains(names, head)
}

// IsBuiltin reports whether a variable as an expression reads it ("schema", "vars.image",
// "ready.deployment") is built in, as opposed to a resource id.
func IsBuiltin(variable string) bool { return headIn(variable, Builtins) }
