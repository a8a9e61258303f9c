package cel

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/decls"
	"github.com/google/cel-go/common/operators"
)

// VariableDoc describes one variable a graph's expressions may read, for the reference.
type VariableDoc struct {
	Name, Type, Where, Description string
}

// Doc is the hand-written part of the reference for one of loom's functions or one macro:
// what it does, and an example that evaluates to true (the tests evaluate each).
type Doc struct {
	Name, Signature, Description, Example string
}

// functionDocs are loom's own functions (library.go, maps.go), as the reference describes
// them; the test of the reference checks that each is in the environment and that every
// function of loom's libraries is here.
var functionDocs = []Doc{
	{"json.encode", "", "The value as compact JSON with object keys sorted, so the same value always gives the same string (and hash). Null map entries and empty optionals are left out, as in templates.",
		`json.encode({"b": 1, "a": [true]}) == '{"a":[true],"b":1}'`},
	{"sha256", "", "The SHA-256 of the string's UTF-8 bytes, as 64 lowercase hex digits.",
		`sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"`},
	{"merge", "", "The entries of both maps; where both hold a key, the argument's value wins. One level only: a nested map of the argument replaces the receiver's whole. Both maps have one type; wrap an object typed from a schema in `dyn()`.",
		`{"app": "web", "tier": "a"}.merge({"tier": "b"}) == {"app": "web", "tier": "b"}`},
	{"deepMerge", "", "As `merge`, but where both values of a key are maps they are merged the same way, at every depth. Any other value of the argument (a list, a string, null) replaces the receiver's; lists are not concatenated, and a null removes the key from what a template writes.",
		`{"a": {"x": 1, "y": 2}, "l": [1]}.deepMerge({"a": {"y": 3}, "l": [2]}) == {"a": {"x": 1, "y": 3}, "l": [2]}`},
	{"omit", "", "The map without the listed keys; keys it does not hold are ignored. Null values need no omitting: a template leaves null map entries out.",
		`{"a": 1, "b": 2, "c": 3}.omit(["a", "c"]) == {"b": 2}`},
}

// macroDocs are the macros of the environment: calls the parser expands into comprehensions
// or tests, which the environment does not list as functions. The test of the reference
// checks that each expands.
var macroDocs = []Doc{
	{"has", "has(e.f)", "Whether the field f of e is set (for a map: whether it holds the key).", `has({"a": 1}.a)`},
	{"all", "<list>.all(x, p), <map>.all(k, p)", "Whether p holds for every element (every key).", `[1, 2].all(x, x > 0)`},
	{"exists", "<list>.exists(x, p), <map>.exists(k, p)", "Whether p holds for some element (some key).", `[1, 2].exists(x, x > 1)`},
	{"exists_one", "<list>.exists_one(x, p)", "Whether p holds for exactly one element. Also spelt existsOne.", `[1, 2].exists_one(x, x > 1)`},
	{"map", "<list>.map(x, e), <list>.map(x, p, e)", "The list of e for each element (for which p holds).", `[1, 2, 3].map(x, x > 1, x * 10) == [20, 30]`},
	{"filter", "<list>.filter(x, p)", "The elements for which p holds.", `[1, 2, 3].filter(x, x != 2) == [1, 3]`},
	{"all (two variables)", "<list>.all(i, x, p), <map>.all(k, v, p)", "Whether p holds for every index and element (key and value).", `{"a": 1}.all(k, v, v > 0)`},
	{"exists (two variables)", "<list>.exists(i, x, p), <map>.exists(k, v, p)", "Whether p holds for some index and element (key and value).", `["a", "b"].exists(i, x, i == 1 && x == "b")`},
	{"existsOne", "<list>.existsOne(i, x, p), <map>.existsOne(k, v, p)", "Whether p holds for exactly one index and element (key and value).", `{"a": 1, "b": 2}.existsOne(k, v, v > 1)`},
	{"transformList", "<list>.transformList(i, x, [p,] e), <map>.transformList(k, v, [p,] e)", "The list of e for each index and element (key and value) for which p holds.", `{"a": 1}.transformList(k, v, k + string(v)) == ["a1"]`},
	{"transformMap", "<list>.transformMap(i, x, [p,] e), <map>.transformMap(k, v, [p,] e)", "The map from each key (index) to e, for the entries for which p holds.", `{"a": 1, "b": 2}.transformMap(k, v, v > 1, v * 2) == {"b": 4}`},
	{"transformMapEntry", "<list>.transformMapEntry(i, x, [p,] e), <map>.transformMapEntry(k, v, [p,] e)", "The map made of the single-entry maps e yields, for the entries for which p holds: renames keys.", `{"a": 1}.transformMapEntry(k, v, {k + "x": v}) == {"ax": 1}`},
	{"optMap", "<optional>.optMap(x, e)", "An optional of e over the value, or none when the optional is empty.", `optional.of(2).optMap(x, x * 2) == optional.of(4)`},
	{"optFlatMap", "<optional>.optFlatMap(x, e)", "e (itself an optional) over the value, or none when the optional is empty.", `optional.of(2).optFlatMap(x, optional.none()) == optional.none()`},
	{"cel.bind", "cel.bind(name, init, e)", "e with name standing for init, evaluated once: names a value an expression uses more than once (ext.Bindings).", `cel.bind(n, "web", n + "-" + n) == "web-web"`},
}

const celSpecDoc = "https://github.com/google/cel-spec/blob/master/doc/langdef.md#list-of-standard-definitions"

// Reference writes, as Markdown, everything a graph's expressions can call: vars (the
// graph's variables, described by the caller, which knows them), the macros, the
// operators and every function of the environment with its signatures, by library. The
// signatures come from the environment itself; loom's functions and the macros carry
// their Doc.
func Reference(w io.Writer, vars []VariableDoc) error {
	b, err := base()
	if err != nil {
		return err
	}
	sections, err := librarySections(b)
	if err != nil {
		return err
	}
	p := &mdWriter{w: w}
	p.line("# CEL in loom: a reference")
	p.line("")
	p.line("Everything an expression in a ResourceGraph can call. Generated by `loom cel` from loom's CEL")
	p.line("environment (`engine/cel`); do not edit. The signatures are the type checker's: `A`, `K`, `V`")
	p.line("stand for any type, `dyn` for a value typed at run time.")
	p.line("")
	p.line("## Variables")
	p.line("")
	p.line("| Name | Type | Where | What |")
	p.line("|---|---|---|---|")
	for _, v := range vars {
		p.line(fmt.Sprintf("| `%s` | %s | %s | %s |", v.Name, v.Type, v.Where, v.Description))
	}
	p.line("")
	p.line("## Macros")
	p.line("")
	for _, m := range macroDocs {
		p.line(fmt.Sprintf("- `%s`: %s  \n  `%s`", m.Signature, m.Description, m.Example))
	}
	for _, s := range sections {
		p.section(s)
	}
	return p.err
}

// section is one library's part of the reference: its name, its link, and its functions.
type section struct {
	name, link string
	funcs      []*decls.FunctionDecl
	overloads  map[string]bool // the overload ids of the library
}

// librarySections sorts the functions of the environment into the libraries that declare
// them: the core (cel-go's standard functions and optional types, and the operators), then
// each of libraries, each overload where its library put it.
func librarySections(b *cel.Env) ([]section, error) {
	core, err := cel.NewEnv(coreOptions()...)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ops, std section
	ops = section{name: "Operators", link: celSpecDoc, overloads: map[string]bool{}}
	std = section{name: "cel-go standard functions and optional types", link: celSpecDoc, overloads: map[string]bool{}}
	for _, f := range core.Functions() {
		if internal(f.Name()) {
			continue
		}
		for _, o := range f.OverloadDecls() {
			seen[o.ID()] = true
			if isOperator(f.Name()) {
				ops.overloads[o.ID()] = true
			} else {
				std.overloads[o.ID()] = true
			}
		}
	}
	out := []section{ops, std}
	for _, l := range libraries {
		env, err := cel.NewEnv(append(coreOptions(), l.opt)...)
		if err != nil {
			return nil, err
		}
		s := section{name: l.name, link: l.link, overloads: map[string]bool{}}
		for _, f := range env.Functions() {
			for _, o := range f.OverloadDecls() {
				if !seen[o.ID()] {
					seen[o.ID()] = true
					s.overloads[o.ID()] = true
				}
			}
		}
		out = append(out, s)
	}
	names := make([]string, 0, len(b.Functions()))
	for name := range b.Functions() {
		names = append(names, name)
	}
	sort.Strings(names)
	for i := range out {
		for _, name := range names {
			f := b.Functions()[name]
			if internal(name) {
				continue
			}
			for _, o := range f.OverloadDecls() {
				if out[i].overloads[o.ID()] {
					out[i].funcs = append(out[i].funcs, f)
					break
				}
			}
		}
	}
	return out, nil
}

// operatorForms are how the reference writes an operator's overload, its arguments in order.
var operatorForms = map[string]string{
	operators.Conditional: "%s ? %s : %s", operators.LogicalNot: "!%s", operators.Negate: "-%s",
	operators.Index: "%s[%s]", operators.OptIndex: "%s[?%s]", operators.OptSelect: "%s.?%s",
	operators.In: "%s in %s",
}

// internal reports whether a function is one no expression calls by its name: the
// parser's and macros' own (@not_strictly_false, cel.@block, cel.@mapInsert) and the
// old spellings of operators.
func internal(name string) bool {
	switch name {
	case operators.In:
		return false
	case operators.OldIn, operators.OldNotStrictlyFalse, "in":
		return true
	}
	return strings.Contains(name, "@")
}

func isOperator(name string) bool {
	return operatorForms[name] != "" || (strings.HasPrefix(name, "_") && strings.HasSuffix(name, "_")) || strings.HasPrefix(name, "@")
}

// signature writes one overload: infix for an operator, receiver first for a member.
func signature(name string, o *decls.OverloadDecl) string {
	args := make([]string, len(o.ArgTypes()))
	for i, t := range o.ArgTypes() {
		args[i] = t.String()
	}
	result := " -> " + o.ResultType().String()
	if form, ok := operatorForms[name]; ok && strings.Count(form, "%s") == len(args) {
		vals := make([]any, len(args))
		for i, a := range args {
			vals[i] = a
		}
		return fmt.Sprintf(form, vals...) + result
	}
	if isOperator(name) && len(args) == 2 {
		return args[0] + " " + strings.Trim(name, "_") + " " + args[1] + result
	}
	if o.IsMemberFunction() && len(args) > 0 {
		return "<" + args[0] + ">." + name + "(" + strings.Join(args[1:], ", ") + ")" + result
	}
	return name + "(" + strings.Join(args, ", ") + ")" + result
}

// mdWriter writes lines, keeping the first error.
type mdWriter struct {
	w   io.Writer
	err error
}

func (p *mdWriter) line(s string) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, s+"\n")
	}
}

func (p *mdWriter) section(s section) {
	if len(s.funcs) == 0 {
		return // a library of macros only: listed with the macros
	}
	p.line("")
	p.line(fmt.Sprintf("## %s", s.name))
	p.line("")
	if strings.HasPrefix(s.link, "http") {
		p.line(fmt.Sprintf("Documented at <%s>.", s.link))
	} else {
		p.line(fmt.Sprintf("loom's own: `engine/cel/%s`.", s.link))
	}
	docs := map[string]Doc{}
	for _, d := range functionDocs {
		docs[d.Name] = d
	}
	for _, f := range s.funcs {
		p.line("")
		name := f.Name()
		if isOperator(name) {
			p.line("### " + operatorHeading(name))
		} else {
			p.line(fmt.Sprintf("### `%s`", name))
		}
		p.line("")
		for _, o := range f.OverloadDecls() {
			if s.overloads[o.ID()] {
				p.line(fmt.Sprintf("- `%s`", signature(name, o)))
			}
		}
		if d, ok := docs[name]; ok {
			p.line("")
			p.line(d.Description)
			p.line("")
			p.line(fmt.Sprintf("Example: `%s`", d.Example))
		}
	}
}

// operatorHeading is how CEL source spells an operator.
func operatorHeading(name string) string {
	switch name {
	case operators.Negate:
		return "`-` (negation)"
	case operators.Index:
		return "`[]`"
	case operators.OptIndex:
		return "`[?]`"
	case operators.OptSelect:
		return "`.?`"
	case operators.Conditional:
		return "`? :`"
	}
	if sym, ok := operators.FindReverse(name); ok && sym != "" {
		return "`" + sym + "`"
	}
	return "`" + name + "`"
}
