package parse

import (
	"encoding/json"
	"sort"
)

// field is one key of an object of the ResourceGraph format. The parser accepts exactly
// these keys, in this order in its messages; JSONSchema describes them from the same
// lists, so an editor's completion and the loader never disagree.
type field struct {
	key      string
	schema   map[string]any // the JSON Schema of its value
	required bool
	doc      string
}

// The objects of the format, each a list of its keys.
var (
	graphFields = []field{
		{"apiVersion", enum(APIVersion), true, "The format's version."},
		{"kind", enum(KindName), true, ""},
		{"metadata", ref("metadata"), false, ""},
		{"spec", ref("spec"), true, ""},
	}
	metadataFields = []field{
		{"name", str(), false, "The graph's name: the loom.dev/graph label of the objects it applies."},
		{"labels", stringMap(), false, ""},
		{"annotations", stringMap(), false, ""},
	}
	specFields = []field{
		{"instance", ref("typeRef"), true, "The kind this graph expands: schema in expressions, typed from its CRD."},
		{"config", names(ref("configKey")), false, "The operator configuration the graph reads: config.<key> in expressions."},
		{"functions", map[string]any{"type": "object", "patternProperties": map[string]any{signaturePattern: ref("expression")}, "additionalProperties": false}, false,
			"Helpers, each `name(a, b): ${...}`: a call name(x, y) in any expression stands for the body with a, b replaced by x, y."},
		{"vars", names(map[string]any{"description": "A value: a literal, a ${...} expression or a template."}), false,
			"Named values, vars.<name> in expressions, each evaluated after the vars it reads."},
		{"checks", list(ref("check")), false, "Rules the instance must satisfy; a failed check renders nothing."},
		{"resources", list(ref("resource")), true, "The objects the graph applies (template) or reads (read)."},
		{"status", map[string]any{"type": "object"}, false,
			"The instance's status: each field a value over schema, config, vars, the resources, ready.<id> and errors."},
	}
	typeRefFields = []field{
		{"apiVersion", str(), true, ""},
		{"kind", str(), true, ""},
	}
	configKeyFields = []field{
		{"type", enum("string", "boolean", "integer"), false, "The key's type (default string)."},
		{"default", map[string]any{"type": []string{"string", "boolean", "integer"}}, false, "Its value when the operator's configuration does not set it."},
		{"env", str(), false, "The operator's environment variable that sets it."},
		{"enum", list(str()), false, "For a string: the only values allowed."},
		{"description", str(), false, ""},
	}
	checkFields = []field{
		{"forEach", ref("expression"), false, "A list: the check is made once per item, the item `each` in rule, field and message."},
		{"rule", ref("expression"), true, "True when the instance is acceptable."},
		{"field", str(), false, "The field of the instance to fix, as a path (spec.replicas); a string template may read each."},
		{"message", str(), true, "What to do, shown in the instance's status; a string template may read each."},
	}
	resourceFields = []field{
		{"id", ref("name"), true, "lowerCamel: the CEL variable that holds the object last observed."},
		{"shared", boolean(), false, "Every instance of a namespace renders the same object; it is applied once."},
		{"recreate", boolean(), false, "Delete and create the object again when the API server refuses a change as immutable."},
		{"forEach", ref("expression"), false, "A list: the resource becomes a collection, one object per item, the item `each` in the template."},
		{"maxItems", map[string]any{"type": "integer", "minimum": 1}, false, "Collections: the most items forEach may yield (default 100)."},
		{"includeWhen", list(ref("expression")), false, "All true, or the resource (and those that read it) is skipped and pruned."},
		{"readyWhen", list(ref("expression")), false, "All true when the observed object is ready: ready.<id>. Without it, its kind's default readiness."},
		{"ignoreReadiness", boolean(), false, "Leave the resource out of allReady and anyReady: the instance does not wait for it."},
		{"template", map[string]any{"type": "object", "required": []string{"apiVersion", "kind"}}, false,
			"The object, its values literals, ${...} expressions or string templates."},
		{"read", ref("read"), false, "Instead of template: objects the graph reads but never applies."},
	}
	readFields = []field{
		{"apiVersion", str(), true, ""},
		{"kind", str(), true, ""},
		{"name", str(), false, "Read one object by name (a string, a template or an expression); leave out to read a collection."},
		{"namespace", str(), false, `Where to look: leave out for the instance's namespace; "*" for every namespace (collections).`},
		{"selector", ref("selector"), false, "Collections: only objects with these labels."},
		{"filter", ref("expression"), false, "Collections: an expression over item, true for the items to keep."},
		{"instanceKey", ref("expression"), false, `Collections: the key ("namespace/name") of the instance, or the list of keys, that reads item; over item alone.`},
		{"maxItems", map[string]any{"type": "integer", "minimum": 1}, false, "Collections: the most items a read may select (default 5000)."},
	}
	selectorFields = []field{
		{"matchLabels", stringMap(), false, ""},
	}
)

// definitions are the objects of the format by the name JSONSchema gives them.
var definitions = map[string][]field{
	"metadata": metadataFields, "spec": specFields, "typeRef": typeRefFields, "configKey": configKeyFields,
	"check": checkFields, "resource": resourceFields, "read": readFields, "selector": selectorFields,
}

// keys are the keys of an object, for the parser.
func keys(fs []field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.key
	}
	return out
}

// JSONSchema is the JSON Schema (draft-07, which yaml-language-server reads) of a
// ResourceGraph file, from the lists of keys the parser accepts. It checks the structure
// (keys, their kinds, the names of vars and ids, where an expression must stand); the
// loader checks the rest: expressions, types, references.
func JSONSchema() ([]byte, error) {
	defs := map[string]any{
		"expression": map[string]any{"type": "string", "pattern": `^\$\{[\s\S]*\}$`, "description": "One ${...} CEL expression, and nothing around it."},
		"name":       map[string]any{"type": "string", "pattern": namePattern, "description": "lowerCamelCase letters and digits: a CEL identifier."},
	}
	for name, fs := range definitions {
		defs[name] = object(fs)
	}
	s := object(graphFields)
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	s["title"] = APIVersion + " " + KindName
	s["description"] = "A loom ResourceGraph: how one instance expands into Kubernetes objects. Generated by `loom schema`."
	s["definitions"] = defs
	return json.MarshalIndent(s, "", "  ")
}

// object is the JSON Schema of an object with the given keys and no others.
func object(fs []field) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range fs {
		s := f.schema
		if f.doc != "" {
			s = with(s, "description", f.doc)
		}
		props[f.key] = s
		if f.required {
			required = append(required, f.key)
		}
	}
	sort.Strings(required)
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// with returns a copy of s with one more keyword.
func with(s map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(s)+1)
	for kk, vv := range s {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// namePattern is lowerCamel's, as JSON Schema writes it.
const namePattern = `^[a-z][a-zA-Z0-9]*$`

// signaturePattern is a function's key: its name and its parameters' names, lowerCamel.
const signaturePattern = `^[a-z][a-zA-Z0-9]*\(\s*([a-z][a-zA-Z0-9]*(\s*,\s*[a-z][a-zA-Z0-9]*)*)?\s*\)$`

func str() map[string]any     { return map[string]any{"type": "string"} }
func boolean() map[string]any { return map[string]any{"type": "boolean"} }
func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/definitions/" + name}
}
func list(items map[string]any) map[string]any {
	return map[string]any{"type": "array", "items": items}
}
func stringMap() map[string]any {
	return map[string]any{"type": "object", "additionalProperties": str()}
}
func enum(vals ...string) map[string]any { return map[string]any{"type": "string", "enum": vals} }

// names is a map whose keys are lowerCamel names (vars, config keys).
func names(values map[string]any) map[string]any {
	return map[string]any{"type": "object", "patternProperties": map[string]any{namePattern: values}, "additionalProperties": false}
}
