package cel

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
)

// Program is one compiled expression.
type Program struct {
	Source string
	// Type is the expression's static type.
	Type *types.Type
	// Refs are the variables the expression reads, as declared (schema, vars.image,
	// deployment, ready.service), sorted.
	Refs []string

	prg cel.Program
	// tracked programs have comprehensions: their cost is measured as they run, against
	// the cost limit. The others cost fixedCost, one unit per node of the expression.
	tracked   bool
	fixedCost uint64
}

// ErrBudget is returned when a render's total CEL cost budget is used up.
var ErrBudget = errors.New("CEL cost budget of the render exhausted")

// Budget is the CEL cost a whole render may spend. A nil *Budget is unlimited. It is not
// safe for concurrent use: one render, one budget.
type Budget struct{ Remaining uint64 }

// Eval runs the program. It stops when ctx is done, when the program's own cost limit is
// reached, or when budget runs out.
func (p *Program) Eval(ctx context.Context, act interpreter.Activation, budget *Budget) (ref.Val, error) {
	if budget != nil && budget.Remaining == 0 {
		return nil, ErrBudget
	}
	if !p.tracked {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("evaluation stopped: %w", err)
		}
		if err := budget.spend(p.fixedCost); err != nil {
			return nil, err
		}
		val, _, err := p.prg.Eval(act)
		return val, err
	}
	val, det, err := p.prg.ContextEval(ctx, act)
	if det != nil {
		if c := det.ActualCost(); c != nil {
			if berr := budget.spend(*c); berr != nil && err == nil {
				return nil, berr
			}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("evaluation stopped: %w", ctx.Err())
		}
		return nil, err
	}
	return val, nil
}

func (b *Budget) spend(c uint64) error {
	if b == nil {
		return nil
	}
	if c > b.Remaining {
		b.Remaining = 0
		return ErrBudget
	}
	b.Remaining -= c
	return nil
}

// shape reports whether an expression has comprehensions, and how many nodes it has.
func shape(a *cel.Ast) (loops bool, nodes uint64) {
	var visit func(e ast.NavigableExpr)
	visit = func(e ast.NavigableExpr) {
		nodes++
		if e.Kind() == ast.ComprehensionKind {
			loops = true
		}
		for _, c := range e.Children() {
			visit(c)
		}
	}
	visit(ast.NavigateAST(a.NativeRep()))
	return loops, nodes
}

// references lists the declared variables a checked expression reads (not comprehension
// variables).
func references(a *cel.Ast, declared map[string]bool) []string {
	seen := map[string]bool{}
	for _, r := range a.NativeRep().ReferenceMap() {
		if declared[r.Name] && len(r.OverloadIDs) == 0 {
			seen[r.Name] = true
		}
	}
	return sortedKeys(seen)
}

// syntacticRefs lists the candidate variable names of a parsed (unchecked) expression:
// every identifier, and every dotted chain of selections on an identifier (a, a.b, a.b.c).
// Comprehension variables are included; callers match against the names they know.
func syntacticRefs(a *cel.Ast) []string {
	seen := map[string]bool{}
	var visit func(e ast.NavigableExpr)
	visit = func(e ast.NavigableExpr) {
		if name, ok := qualifiedName(e); ok {
			parts := strings.Split(name, ".")
			for i := range parts {
				seen[strings.Join(parts[:i+1], ".")] = true
			}
		}
		for _, c := range e.Children() {
			visit(c)
		}
	}
	visit(ast.NavigateAST(a.NativeRep()))
	return sortedKeys(seen)
}

func qualifiedName(e ast.Expr) (string, bool) {
	switch e.Kind() {
	case ast.IdentKind:
		return e.AsIdent(), true
	case ast.SelectKind:
		s := e.AsSelect()
		if s.IsTestOnly() {
			return "", false
		}
		if base, ok := qualifiedName(s.Operand()); ok {
			return base + "." + s.FieldName(), true
		}
	}
	return "", false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
