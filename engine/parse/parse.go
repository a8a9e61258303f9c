package parse

import (
	"fmt"
	"iter"
	"regexp"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

const (
	// APIVersion and KindName identify a ResourceGraph document.
	APIVersion = "loom.dev/v1alpha1"
	KindName   = "ResourceGraph"
)

// CEL's reserved words cannot name a variable either.
var celReserved = map[string]bool{
	"as": true, "break": true, "const": true, "continue": true, "else": true, "false": true,
	"for": true, "function": true, "if": true, "import": true, "in": true, "let": true,
	"loop": true, "package": true, "namespace": true, "null": true, "return": true,
	"true": true, "var": true, "void": true, "while": true,
}

var (
	lowerCamel = regexp.MustCompile(namePattern)
	signature  = regexp.MustCompile(signaturePattern)
)

// Parse reads one ResourceGraph document. file names it in errors. All errors found are
// returned together as an ErrorList.
func Parse(file string, data []byte) (*Graph, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, ErrorList{yamlError(file, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, ErrorList{{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "empty document: expected a ResourceGraph"}}
	}
	nodes := countNodes(&doc)
	p := &parser{file: file, lines: strings.Split(string(data), "\n"), nodes: nodes,
		left: max(MinExpansion, AliasExpansion*nodes), expanding: map[*yaml.Node]bool{}}
	g := p.graph(doc.Content[0])
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return g, nil
}

// Aliases (*name) stand for the node their anchor (&name) marks, so a short document can
// stand for a huge one: nine anchors of nine aliases each make 387 million nodes. A graph's
// values may hold at most AliasExpansion times the nodes the document has, or MinExpansion,
// whichever is more; an alias inside the node it stands for is an error.
const (
	AliasExpansion = 4
	MinExpansion   = 10_000
)

type parser struct {
	file  string
	lines []string // the document's lines, for positions inside scalars
	errs  ErrorList
	// Alias expansion: the document's own nodes, the values still allowed, and the
	// anchored nodes being expanded now (an alias to one of them is a cycle).
	nodes, left int
	expanding   map[*yaml.Node]bool
	outermost   *yaml.Node // the outermost alias being expanded, where an excess is reported
	exceeded    bool
}

// countNodes counts a document's nodes, each once: aliases are not followed.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, ch := range n.Content {
		c += countNodes(ch)
	}
	return c
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line, Col: n.Column} }

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: p.pos(n), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fields returns the keys of a mapping node in order, reporting keys not in allowed.
func (p *parser) fields(n *yaml.Node, path string, allowed ...string) map[string]*yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected a mapping, got %s", describe(n))
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if len(allowed) > 0 && !slices.Contains(allowed, key) {
			p.errorf(k, JoinPath(path, key), "unknown field %q (expected one of: %s);%s", key, strings.Join(allowed, ", "), DidYouMean(key, allowed))
			continue
		}
		if _, dup := out[key]; dup {
			p.errorf(k, JoinPath(path, key), "duplicate key %q", key)
			continue
		}
		out[key] = v
	}
	return out
}

func (p *parser) str(n *yaml.Node, path string) string {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.errorf(n, path, "expected a string, got %s", describe(n))
		return ""
	}
	return n.Value
}

func (p *parser) graph(root *yaml.Node) *Graph {
	g := &Graph{File: p.file}
	top := p.fields(root, "", keys(graphFields)...)
	if top == nil {
		return g
	}
	if v, ok := top["apiVersion"]; !ok || p.str(v, "apiVersion") != APIVersion {
		p.errorf(root, "apiVersion", "expected apiVersion: %s", APIVersion)
	}
	if v, ok := top["kind"]; !ok || p.str(v, "kind") != KindName {
		p.errorf(root, "kind", "expected kind: %s", KindName)
	}
	if md, ok := top["metadata"]; ok {
		if m := p.fields(md, "metadata", keys(metadataFields)...); m != nil && m["name"] != nil {
			g.Name = p.str(m["name"], "metadata.name")
		}
	}
	spec, ok := top["spec"]
	if !ok {
		p.errorf(root, "spec", "missing spec")
		return g
	}
	s := p.fields(spec, "spec", keys(specFields)...)
	if s == nil {
		return g
	}
	if n, ok := s["instance"]; ok {
		g.Instance = p.typeRef(n, "spec.instance")
	} else {
		p.errorf(spec, "spec.instance", "missing spec.instance: the apiVersion and kind this graph expands")
	}
	if n, ok := s["config"]; ok {
		g.Config = p.config(n)
	}
	if n, ok := s["functions"]; ok {
		g.Functions = p.functions(n)
	}
	if n, ok := s["vars"]; ok {
		g.Vars = p.vars(n)
	}
	if n, ok := s["checks"]; ok {
		g.Checks = p.checks(n)
	}
	if n, ok := s["resources"]; ok {
		g.Resources = p.resources(n)
	} else {
		p.errorf(spec, "spec.resources", "missing spec.resources: a graph needs at least one resource")
	}
	if n, ok := s["status"]; ok {
		g.Status = p.value(n, "spec.status")
		if g.Status.Kind != Map {
			p.errorf(n, "spec.status", "expected a mapping of status fields")
		}
	}
	return g
}

func (p *parser) typeRef(n *yaml.Node, path string) TypeRef {
	f := p.fields(n, path, keys(typeRefFields)...)
	t := TypeRef{Pos: p.pos(n)}
	if f == nil {
		return t
	}
	if f["apiVersion"] == nil || f["kind"] == nil {
		p.errorf(n, path, "needs apiVersion and kind")
		return t
	}
	t.APIVersion = p.str(f["apiVersion"], path+".apiVersion")
	t.Kind = p.str(f["kind"], path+".kind")
	return t
}

func (p *parser) config(n *yaml.Node) []ConfigKey {
	var out []ConfigKey
	for k, v := range p.entries(n, "spec.config", "expected a mapping of configuration keys") {
		path := "spec.config." + k.Value
		p.checkName(k, path, k.Value, "config key")
		f := p.fields(v, path, keys(configKeyFields)...)
		if f == nil {
			continue
		}
		c := ConfigKey{Name: k.Value, Pos: p.pos(k), Type: "string"}
		if t, ok := f["type"]; ok {
			c.Type = p.str(t, path+".type")
		}
		switch c.Type {
		case "string":
			c.Default = ""
		case "boolean":
			c.Default = false
		case "integer":
			c.Default = int64(0)
		default:
			p.errorf(f["type"], path+".type", "type %q: expected string, boolean or integer", c.Type)
		}
		if d, ok := f["default"]; ok {
			val := p.value(d, path+".default")
			if val.Kind != Literal || !scalarIs(val.Scalar, c.Type) {
				p.errorf(d, path+".default", "default must be a literal %s", c.Type)
			} else {
				c.Default = val.Scalar
			}
		}
		if e, ok := f["env"]; ok {
			c.Env = p.str(e, path+".env")
		}
		if e, ok := f["enum"]; ok {
			c.Enum = p.enum(e, path+".enum", c)
		}
		if d, ok := f["description"]; ok {
			c.Description = p.str(d, path+".description")
		}
		out = append(out, c)
	}
	return out
}

// enum reads a config key's allowed values: strings, its default among them.
func (p *parser) enum(n *yaml.Node, path string, c ConfigKey) []string {
	n = resolve(n)
	if c.Type != "string" || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, path, "enum: expected a non-empty list of strings, on a string key")
		return nil
	}
	var out []string
	for i, item := range n.Content {
		out = append(out, p.str(item, fmt.Sprintf("%s[%d]", path, i)))
	}
	if d, _ := c.Default.(string); d != "" && !slices.Contains(out, d) {
		p.errorf(n, path, "the default %q is not one of the enum's values", d)
	}
	return out
}

func scalarIs(v any, typ string) bool {
	switch v.(type) {
	case string:
		return typ == "string"
	case bool:
		return typ == "boolean"
	case int64:
		return typ == "integer"
	}
	return false
}

func (p *parser) vars(n *yaml.Node) []Var {
	var out []Var
	seen := map[string]bool{}
	for k, v := range p.entries(n, "spec.vars", "expected a mapping of named values") {
		path := "spec.vars." + k.Value
		p.checkName(k, path, k.Value, "var")
		if seen[k.Value] {
			p.errorf(k, path, "duplicate var %q", k.Value)
		}
		seen[k.Value] = true
		out = append(out, Var{Name: k.Value, Pos: p.pos(k), Value: p.value(v, path)})
	}
	return out
}

// functions reads the helpers, each keyed by its signature: name(a, b).
func (p *parser) functions(n *yaml.Node) []Function {
	var out []Function
	seen := map[string]bool{}
	for k, v := range p.entries(n, "spec.functions", "expected a mapping of functions, each name(params): ${...}") {
		path := "spec.functions." + k.Value
		if !signature.MatchString(k.Value) {
			p.errorf(k, path, "%q: expected a function's name and its parameters, such as orDefault(s, d)", k.Value)
			continue
		}
		name, params, _ := strings.Cut(strings.TrimSuffix(k.Value, ")"), "(")
		f := Function{Name: name, Pos: p.pos(k)}
		p.checkName(k, path, name, "function")
		if seen[name] {
			p.errorf(k, path, "duplicate function %q", name)
		}
		seen[name] = true
		for _, prm := range strings.Split(params, ",") {
			if prm = strings.TrimSpace(prm); prm == "" {
				continue
			}
			p.checkName(k, path, prm, "parameter")
			if slices.Contains(f.Params, prm) {
				p.errorf(k, path, "duplicate parameter %q", prm)
			}
			f.Params = append(f.Params, prm)
		}
		if body := p.expr(v, path); body != nil {
			f.Body = body.Source
			out = append(out, f)
		}
	}
	return out
}

func (p *parser) checks(n *yaml.Node) []Check {
	var out []Check
	for i, item := range p.items(n, "spec.checks", "expected a list of checks") {
		path := fmt.Sprintf("spec.checks[%d]", i)
		f := p.fields(item, path, keys(checkFields)...)
		if f == nil {
			continue
		}
		c := Check{Pos: p.pos(item)}
		if f["rule"] == nil || f["message"] == nil {
			p.errorf(item, path, "a check needs rule and message")
			continue
		}
		c.Rule = p.expr(f["rule"], path+".rule")
		c.Message = p.text(f["message"], path+".message")
		if fld, ok := f["field"]; ok {
			c.Field = p.text(fld, path+".field")
		}
		if fe, ok := f["forEach"]; ok {
			c.ForEach = p.expr(fe, path+".forEach")
		}
		out = append(out, c)
	}
	return out
}

func (p *parser) resources(n *yaml.Node) []Resource {
	var out []Resource
	seen := map[string]Pos{}
	for i, item := range p.items(n, "spec.resources", "expected a list of resources") {
		path := fmt.Sprintf("spec.resources[%d]", i)
		f := p.fields(item, path, keys(resourceFields)...)
		if f == nil {
			continue
		}
		r := Resource{Pos: p.pos(item)}
		if idn, ok := f["id"]; ok {
			r.ID = p.str(idn, path+".id")
			p.checkName(idn, path+".id", r.ID, "resource id")
			if prev, dup := seen[r.ID]; dup {
				p.errorf(idn, path+".id", "duplicate resource id %q (first at %s)", r.ID, prev)
			}
			seen[r.ID] = p.pos(idn)
			path = fmt.Sprintf("spec.resources[%s]", r.ID)
		} else {
			p.errorf(item, path, "a resource needs an id")
		}
		r.Shared = p.flag(f["shared"], path+".shared")
		r.Recreate = p.flag(f["recreate"], path+".recreate")
		r.IgnoreReadiness = p.flag(f["ignoreReadiness"], path+".ignoreReadiness")
		p.forEach(f, &r, path)
		r.IncludeWhen = p.exprList(f["includeWhen"], path+".includeWhen")
		r.ReadyWhen = p.exprList(f["readyWhen"], path+".readyWhen")
		if _, ok := f["read"]; ok {
			p.readResource(f, &r, path)
		} else if t, ok := f["template"]; ok {
			r.Template = p.value(t, path+".template")
			if r.Template.Kind != Map {
				p.errorf(t, path+".template", "expected an object template (a mapping with apiVersion and kind)")
			}
		} else {
			p.errorf(item, path, "a resource needs a template (or a read)")
		}
		out = append(out, r)
	}
	return out
}

// text reads a string, which may be a template.
func (p *parser) text(n *yaml.Node, path string) *Value {
	if p.str(n, path); resolve(n).Tag != "!!str" {
		return &Value{Pos: p.pos(n), Kind: Literal, Scalar: ""}
	}
	return p.value(n, path)
}

// flag reads an optional literal true or false.
func (p *parser) flag(n *yaml.Node, path string) bool {
	if n == nil {
		return false
	}
	v := p.value(n, path)
	b, isBool := v.Scalar.(bool)
	if v.Kind != Literal || !isBool {
		p.errorf(n, path, "expected true or false")
	}
	return b
}

func (p *parser) exprList(n *yaml.Node, path string) []*Value {
	if n == nil {
		return nil
	}
	var out []*Value
	for i, item := range p.items(n, path, "expected a list of ${...} expressions") {
		if v := p.expr(item, fmt.Sprintf("%s[%d]", path, i)); v != nil {
			out = append(out, v)
		}
	}
	return out
}

// expr reads a value that must be exactly one ${...} expression.
func (p *parser) expr(n *yaml.Node, path string) *Value {
	v := p.value(n, path)
	if v.Kind != Expr {
		p.errorf(n, path, "expected one ${...} expression")
		return nil
	}
	return v
}

func (p *parser) checkName(n *yaml.Node, path, name, what string) {
	switch {
	case !lowerCamel.MatchString(name):
		p.errorf(n, path, "%s %q: must be lowerCamelCase letters and digits (a CEL identifier)", what, name)
	case IsBuiltin(name) || celReserved[name]:
		p.errorf(n, path, "%s %q: the name is reserved", what, name)
	}
}

// value converts any YAML node into a template Value.
func (p *parser) value(n *yaml.Node, path string) *Value {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return p.alias(n, path)
	}
	if n.Anchor != "" {
		p.expanding[n] = true
		defer delete(p.expanding, n)
	}
	v := &Value{Pos: p.pos(n)}
	if p.left--; p.left < 0 {
		if !p.exceeded {
			p.exceeded = true
			at := n
			if p.outermost != nil {
				at = p.outermost
			}
			p.errorf(at, path, "aliases expand the graph past %d values (the document has %d nodes; at most %d times that, or %d): write the repeated part out, or repeat it less",
				max(MinExpansion, AliasExpansion*p.nodes), p.nodes, AliasExpansion, MinExpansion)
		}
		return v
	}
	switch n.Kind {
	case yaml.MappingNode:
		v.Kind = Map
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				p.errorf(k, path, "map keys must be plain strings (no merge keys or complex keys)")
				continue
			}
			if strings.Contains(k.Value, "${") {
				p.errorf(k, JoinPath(path, k.Value), "map keys cannot be expressions; build the map in one ${...} expression instead")
				continue
			}
			if seen[k.Value] {
				p.errorf(k, JoinPath(path, k.Value), "duplicate key %q", k.Value)
				continue
			}
			seen[k.Value] = true
			v.Fields = append(v.Fields, Field{Key: k.Value, Pos: p.pos(k), Value: p.value(n.Content[i+1], JoinPath(path, k.Value))})
		}
	case yaml.SequenceNode:
		v.Kind = List
		for i, item := range n.Content {
			v.Items = append(v.Items, p.value(item, fmt.Sprintf("%s[%d]", path, i)))
		}
	case yaml.ScalarNode:
		p.scalar(n, path, v)
	default:
		p.errorf(n, path, "unsupported YAML node")
	}
	return v
}

func (p *parser) scalar(n *yaml.Node, path string, v *Value) {
	v.Kind = Literal
	switch n.Tag {
	case "!!null":
		v.Scalar = nil
	case "!!bool", "!!int", "!!float":
		var x any
		if err := n.Decode(&x); err != nil {
			p.errorf(n, path, "%v", err)
			return
		}
		if i, ok := x.(int); ok {
			x = int64(i)
		}
		v.Scalar = x
	case "!!str":
		segs, err := Scan(n.Value)
		if err != nil {
			se := err.(*ScanError)
			p.errs = append(p.errs, &Error{Pos: p.offsetPos(n, se.Offset), Path: path, Msg: se.Msg})
			return
		}
		if src, ok := Standalone(segs); ok {
			v.Kind = Expr
			v.Source = &Source{Text: src, Pos: p.offsetPos(n, segs[0].Offset)}
			return
		}
		hasExpr := false
		for _, s := range segs {
			if s.IsExpr {
				hasExpr = true
				v.Parts = append(v.Parts, Part{Source: &Source{Text: s.Expr, Pos: p.offsetPos(n, s.Offset)}})
			} else {
				v.Parts = append(v.Parts, Part{Lit: s.Lit})
			}
		}
		if hasExpr {
			v.Kind = Template
			return
		}
		// Escapes ($${) were resolved by Scan.
		v.Scalar = ""
		if len(segs) == 1 {
			v.Scalar = segs[0].Lit
		}
	default:
		p.errorf(n, path, "unsupported YAML tag %s", n.Tag)
	}
}

// offsetPos is the position of byte off of a scalar's value: exact when the value's first
// off bytes stand as they are on the scalar's first line, else the scalar's own position
// (block scalars; a plain or quoted scalar folded over several lines, or with escapes).
func (p *parser) offsetPos(n *yaml.Node, off int) Pos {
	pos := p.pos(n)
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || off > len(n.Value) || n.Line < 1 || n.Line > len(p.lines) {
		return pos
	}
	start := n.Column - 1
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		start++
	}
	line := p.lines[n.Line-1]
	if start < 0 || start+off > len(line) || line[start:start+off] != n.Value[:off] {
		return pos
	}
	pos.Col = start + off + 1
	return pos
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError places a YAML syntax error on its line. The most common one in graphs is an
// unquoted expression holding ": " (a map literal or a ternary): the hint says to quote it.
func yamlError(file string, err error) *Error {
	e := &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "not valid YAML: " + err.Error()}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		fmt.Sscan(m[1], &e.Pos.Line)
		e.Msg = "not valid YAML: " + m[2]
		if strings.Contains(m[2], "mapping values are not allowed") {
			e.Msg += " (an unquoted ${...} containing \": \" reads as a YAML map: quote the whole value)"
		}
	}
	return e
}

// alias expands an alias where a value stands, refusing one inside the node it stands for.
func (p *parser) alias(n *yaml.Node, path string) *Value {
	target := resolve(n)
	if p.expanding[target] {
		p.errorf(n, path, "alias *%s stands inside the node its anchor &%s marks, so it never ends: an alias may only repeat a node defined before and outside it", n.Value, n.Value)
		return &Value{Pos: p.pos(n)}
	}
	if p.outermost == nil {
		p.outermost = n
		defer func() { p.outermost = nil }()
	}
	return p.value(target, path)
}

// expect resolves n and reports whether it is of kind; if not, the error says what was
// expected at path.
func (p *parser) expect(n *yaml.Node, kind yaml.Kind, path, want string) (*yaml.Node, bool) {
	n = resolve(n)
	if n.Kind != kind {
		p.errorf(n, path, "%s", want)
		return n, false
	}
	return n, true
}

// entries yields the key and value nodes of the mapping n, in file order; when n is not a
// mapping it yields nothing, and the error says want at path.
func (p *parser) entries(n *yaml.Node, path, want string) iter.Seq2[*yaml.Node, *yaml.Node] {
	n, ok := p.expect(n, yaml.MappingNode, path, want)
	return func(yield func(*yaml.Node, *yaml.Node) bool) {
		for i := 0; ok && i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i], n.Content[i+1]) {
				return
			}
		}
	}
}

// items is the items of the sequence n; when n is not a sequence it is empty, and the error
// says want at path.
func (p *parser) items(n *yaml.Node, path, want string) []*yaml.Node {
	if n, ok := p.expect(n, yaml.SequenceNode, path, want); ok {
		return n.Content
	}
	return nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.Tag, "!!"), n.Value)
	}
	return "something else"
}

// JoinPath appends a map key to a dotted field path ("" is the root), the form every
// position in an error uses.
func JoinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
