package parse

import (
	"fmt"

	yaml "go.yaml.in/yaml/v3"
)

// AllNamespaces as a read's namespace selects objects of every namespace.
const AllNamespaces = "*"

// Read is a resource that reads objects the graph does not apply: one object by name, or a
// collection of one kind. It is never applied, owned or pruned.
type Read struct {
	Pos        Pos
	APIVersion string
	Kind       string
	// Name reads one object by name (a string, a template or an expression); nil reads a
	// collection.
	Name *Value
	// Namespace is where to look: "" for the instance's namespace, a fixed namespace, or
	// AllNamespaces (collections only).
	Namespace string
	// MatchLabels narrows a collection to objects carrying all these labels.
	MatchLabels map[string]string
	// Filter, an expression over `item` (and schema, config, vars), keeps the items for
	// which it is true.
	Filter *Value
	// InstanceKey, an expression over `item` alone, yields the key ("namespace/name") of
	// the instance, or the list of keys of the instances, that read the item. A collection
	// with one holds, for an instance, only the items whose keys include the instance's.
	InstanceKey *Value
	// MaxItems bounds the collection (0: the engine's default).
	MaxItems int64
}

// read parses a resource's read block.
func (p *parser) read(n *yaml.Node, path string) *Read {
	f := p.fields(n, path, keys(readFields)...)
	r := &Read{Pos: p.pos(n)}
	if f == nil {
		return r
	}
	if f["apiVersion"] == nil || f["kind"] == nil {
		p.errorf(n, path, "a read needs apiVersion and kind")
	} else {
		r.APIVersion = p.str(f["apiVersion"], path+".apiVersion")
		r.Kind = p.str(f["kind"], path+".kind")
	}
	if v, ok := f["name"]; ok {
		r.Name = p.value(v, path+".name")
		if r.Name.Kind == Map || r.Name.Kind == List {
			p.errorf(v, path+".name", "expected a string, a string template or one ${...} expression")
		}
	}
	if v, ok := f["namespace"]; ok {
		r.Namespace = p.str(v, path+".namespace")
		if r.Namespace == "" {
			p.errorf(v, path+".namespace", "leave namespace out to read in the instance's namespace")
		}
	}
	if v, ok := f["selector"]; ok {
		if sel := p.fields(v, path+".selector", keys(selectorFields)...); sel != nil && sel["matchLabels"] != nil {
			r.MatchLabels = p.labels(sel["matchLabels"], path+".selector.matchLabels")
		}
	}
	if v, ok := f["filter"]; ok {
		r.Filter = p.expr(v, path+".filter")
	}
	if v, ok := f["instanceKey"]; ok {
		r.InstanceKey = p.expr(v, path+".instanceKey")
	}
	if v, ok := f["maxItems"]; ok {
		r.MaxItems = p.positive(v, path+".maxItems")
	}
	if r.Name != nil {
		for _, k := range []string{"selector", "filter", "instanceKey", "maxItems"} {
			if f[k] != nil {
				p.errorf(f[k], path+"."+k, "%s selects among the items of a collection; a read by name reads one object", k)
			}
		}
		if r.Namespace == AllNamespaces {
			p.errorf(f["namespace"], path+".namespace", "%q reads a collection; a read by name needs one namespace", AllNamespaces)
		}
	}
	return r
}

func (p *parser) labels(n *yaml.Node, path string) map[string]string {
	f := p.fields(n, path)
	if f == nil {
		return nil
	}
	out := make(map[string]string, len(f))
	for k, v := range f {
		out[k] = p.str(v, fmt.Sprintf("%s[%s]", path, k))
	}
	return out
}

// readResource checks the fields of a resource that reads: only id, includeWhen and read.
func (p *parser) readResource(f map[string]*yaml.Node, r *Resource, path string) {
	r.Read = p.read(f["read"], path+".read")
	for _, k := range []string{"template", "shared", "readyWhen", "forEach", "maxItems", "ignoreReadiness"} {
		if f[k] != nil {
			p.errorf(f[k], path+"."+k, "a resource with read is never applied: remove %s", k)
		}
	}
}
