package parse

import yaml "go.yaml.in/yaml/v3"

// forEach reads a resource's forEach and maxItems: a collection, one object per item of
// the list forEach yields. A collection is applied per instance, so it cannot be shared.
func (p *parser) forEach(f map[string]*yaml.Node, r *Resource, path string) {
	if n, ok := f["forEach"]; ok {
		r.ForEach = p.expr(n, path+".forEach")
		if r.Shared {
			p.errorf(n, path+".forEach", "a shared resource is one object per namespace: remove shared or forEach")
		}
	}
	if n, ok := f["maxItems"]; ok && f["read"] == nil {
		r.MaxItems = p.positive(n, path+".maxItems")
		if f["forEach"] == nil {
			p.errorf(n, path+".maxItems", "maxItems bounds the items of forEach: add forEach, or remove maxItems")
		}
	}
}

// positive reads a literal positive integer.
func (p *parser) positive(n *yaml.Node, path string) int64 {
	val := p.value(n, path)
	i, isInt := val.Scalar.(int64)
	if val.Kind != Literal || !isInt || i < 1 {
		p.errorf(n, path, "expected a positive integer")
		return 0
	}
	return i
}
