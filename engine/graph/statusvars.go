package graph

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/common/types"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/parse"
)

// statusEnv declares, over env, the names only the status phase has: errors, ready.<id>
// of every resource that templates an object, allReady and anyReady. Vars are compiled in it (a var that reads one
// of them is a status var), and so is the status.
func (l *loader) statusEnv(env *cel.Env) (*cel.Env, error) {
	vars := []cel.Variable{
		{Name: parse.NameErrors, Type: types.NewListType(types.StringType)},
		{Name: parse.NameAllReady, Type: types.BoolType},
		{Name: parse.NameAnyReady, Type: types.BoolType},
	}
	for _, r := range l.pg.Resources {
		vars = append(vars, cel.Variable{Name: parse.NameReady + "." + r.ID, Type: types.BoolType})
	}
	return env.Extend(vars...)
}

// declareVars declares every var over env, the environment of the render phase: templates,
// includeWhen, readyWhen, checks and reads see the vars but not the status phase's names.
// A status var is declared too, so that reading one is refused with its reason
// (statusVarsInStatusOnly) rather than as an unknown name.
func declareVars(env *cel.Env, vars []*Var) (*cel.Env, error) {
	decls := make([]cel.Variable, len(vars))
	for i, v := range vars {
		decls[i] = cel.Variable{Name: parse.NameVars + "." + v.Name, Type: treeType(v.Value)}
	}
	return env.Extend(decls...)
}

// markStatusVar records whether var name, compiled as t, is a status var: it reads a
// name of the status phase, or a status var (vars come in dependency order, so those it
// reads are marked already).
func (l *loader) markStatusVar(name string, t *Tree) bool {
	if l.statusVars == nil {
		l.statusVars = map[string]string{}
	}
	for _, e := range exprs(t) {
		for _, ref := range e.Refs {
			other, isVar := strings.CutPrefix(ref, parse.NameVars+".")
			switch {
			case parse.IsStatusOnly(ref):
				l.statusVars[name] = ref
				return true
			case isVar && l.statusVars[other] != "":
				l.statusVars[name] = ref
				return true
			}
		}
	}
	return false
}

// statusVarsInStatusOnly refuses reading a status var anywhere but in status and other
// status vars: templates, includeWhen, readyWhen, checks and reads are evaluated before
// readiness is known.
func (l *loader) statusVarsInStatusOnly(g *Graph) {
	var all []*Expr
	for _, c := range g.Checks {
		all = append(append(append(all, c.Rule), exprs(c.Message)...), exprs(c.Field)...)
		if c.ForEach != nil {
			all = append(all, c.ForEach)
		}
	}
	for _, n := range g.Nodes {
		all = append(append(append(all, exprs(n.Template)...), n.IncludeWhen...), n.ReadyWhen...)
	}
	for _, r := range g.Reads {
		all = append(append(all, r.IncludeWhen...), exprs(r.Name)...)
		if r.Filter != nil {
			all = append(all, r.Filter)
		}
	}
	for _, e := range all {
		for _, ref := range e.Refs {
			name, isVar := strings.CutPrefix(ref, parse.NameVars+".")
			if via := l.statusVars[name]; isVar && via != "" {
				l.errorf(e.Pos, e.Owner, e.Path, e.Source, "%s", statusVarMsg(name, via))
			}
		}
	}
}

// statusVarMsg says why vars.name may not be read here, and what to do.
func statusVarMsg(name, via string) string {
	what := via
	if strings.HasPrefix(via, parse.NameVars+".") {
		what = via + ", a status var"
	}
	return fmt.Sprintf("reads vars.%s, a status var (it reads %s): only status and other status vars may read it, as they are computed once readiness is known", name, what)
}
