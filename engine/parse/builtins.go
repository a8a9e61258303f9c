package parse

import "strings"

// The built-in names: the variables every expression may read besides the resource ids.
// This is their one list; the parser reserves them, the type checker declares them and the
// renderer resolves them.
const (
	// NameSchema is the instance, its CRD's defaults applied.
	NameSchema = "schema"
	// NameConfig is the operator configuration the graph declares.
	NameConfig = "config"
	// NameVars prefixes each var: vars.<name>.
	NameVars = "vars"
	// NameReady prefixes each resource's readiness, in readyWhen and status: ready.<id>.
	NameReady = "ready"
	// NameErrors is the list of errors a person should read, in status only.
	NameErrors = "errors"
	// NameItem is one item of a collection read, in its instanceKey and filter.
	NameItem = "item"
	// NameEach is one item of a collection's forEach list, in its template.
	NameEach = "each"
)

// Builtins are the built-in names; no resource id or var may take one.
var Builtins = []string{NameSchema, NameConfig, NameVars, NameReady, NameErrors, NameItem, NameEach}

// IsBuiltin reports whether a variable as an expression reads it ("schema", "vars.image",
// "ready.deployment") is built in, as opposed to a resource id.
func IsBuiltin(variable string) bool {
	head, _, _ := strings.Cut(variable, ".")
	for _, b := range Builtins {
		if head == b {
			return true
		}
	}
	return false
}
