package cel

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

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

	// plan plans the program, once, at its first evaluation (Compile says why): planOnce
	// guards it, since a graph's programs are shared by concurrent renders.
	plan     func() (cel.Program, error)
	planOnce sync.Once
	prg      cel.Program
	planErr  error
	// Cost: one unit per node of the expression, plus, for each comprehension step, as
	// many units as the largest loop body of the expression has nodes, plus the size of
	// what functions build and read (cost.go). Only expressions with comprehensions or
	// such functions can cost more than their size; they run metered.
	fixedCost, stepCost, costLimit uint64
	metered, loops                 bool
	path                           path // a path: Lookup reads it
}

// ErrBudget is returned when a render's total CEL cost budget is used up.
var ErrBudget = errors.New("CEL cost budget of the render exhausted")

// Budget is the CEL cost a whole render may spend. A nil *Budget is unlimited. It is not
// safe for concurrent use: one render, one budget.
type Budget struct {
	Remaining uint64
	// Deadline, when set, stops evaluations with loops (the only ones that can run long)
	// with ErrDeadline once it has passed: checked as they start and every 64 loop steps,
	// with no timer to set up per render.
	Deadline time.Time
	m        meter // reused by every metered evaluation of the render
}

// ErrDeadline is returned by an evaluation that ran past its budget's Deadline.
var ErrDeadline = errors.New("the render ran past its deadline")

// ErrCostLimit is returned when one evaluation of one expression exceeds its cost limit.
var ErrCostLimit = errors.New("cost limit exceeded")

// Eval runs the program. It stops when ctx is done, when the program's own cost limit is
// reached, or when budget runs out.
func (p *Program) Eval(ctx context.Context, act interpreter.Activation, budget *Budget) (ref.Val, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("evaluation stopped: %w", context.Cause(ctx))
	}
	if err := budget.spend(p.fixedCost); err != nil {
		return nil, err
	}
	prg, err := p.program()
	if err != nil {
		return nil, err
	}
	if !p.metered {
		val, _, err := prg.Eval(act)
		return val, err
	}
	m := budget.meter()
	*m = meter{Activation: act, done: ctx.Done(), max: p.costLimit, stepCost: p.stepCost}
	if p.loops && budget != nil && !budget.Deadline.IsZero() {
		if time.Now().After(budget.Deadline) {
			return nil, ErrDeadline
		}
		m.deadline = budget.Deadline
	}
	limitedByBudget := false
	if budget != nil && budget.Remaining < m.max {
		m.max, limitedByBudget = budget.Remaining, true
	}
	val, _, err := prg.Eval(m)
	m.Activation = nil
	if spendErr := budget.spend(m.used); spendErr != nil && err == nil && m.stopped == nil {
		err = spendErr
	}
	switch {
	case m.stopped == errStopped:
		return nil, fmt.Errorf("evaluation stopped: %w", context.Cause(ctx))
	case m.stopped == ErrDeadline:
		return nil, ErrDeadline
	case m.stopped != nil && limitedByBudget:
		return nil, ErrBudget
	case m.stopped != nil:
		return nil, fmt.Errorf("%w: more than %d units", ErrCostLimit, p.costLimit)
	}
	return val, err
}

// program is the planned program, planned at the first call.
func (p *Program) program() (cel.Program, error) {
	p.planOnce.Do(func() {
		p.prg, p.planErr = p.plan()
		p.plan = nil
	})
	return p.prg, p.planErr
}

var errStopped = errors.New("context done")

// meter is the activation of a metered evaluation: it counts the units spent (comprehension
// steps, and the sizes cost.go charges) and stops every loop (by answering "#interrupted")
// and every charged call once they pass max or the context is done.
type meter struct {
	interpreter.Activation
	done     <-chan struct{}
	deadline time.Time // zero: none
	used     uint64
	max      uint64
	stepCost uint64
	steps    uint64
	stopped  error
}

func (m *meter) ResolveName(name string) (any, bool) {
	switch name {
	case "#meter":
		return m, true
	case "#interrupted":
	default:
		return m.Activation.ResolveName(name)
	}
	if m.stopped != nil {
		return true, true
	}
	if !m.charge(max(m.stepCost, 1)) {
		return true, true
	}
	m.steps++
	if m.steps&63 == 0 {
		select {
		case <-m.done:
			m.stopped = errStopped
			return true, true
		default:
		}
		if !m.deadline.IsZero() && time.Now().After(m.deadline) {
			m.stopped = ErrDeadline
			return true, true
		}
	}
	return false, true
}

// charge spends n units; false, and the evaluation stops, once they pass max.
func (m *meter) charge(n uint64) bool {
	if m.stopped != nil {
		return false
	}
	if n > m.max-m.used {
		m.used = m.max + 1
		m.stopped = ErrCostLimit
		return false
	}
	m.used += n
	return true
}

// left is what the meter can still spend.
func (m *meter) left() uint64 { return m.max - min(m.used, m.max) }

// meter returns the budget's meter, or a new one for an unlimited evaluation or for one
// that runs inside another (a var computed as an expression reads it): the outer one is
// still counting on the budget's.
func (b *Budget) meter() *meter {
	if b == nil || b.m.Activation != nil {
		return &meter{}
	}
	return &b.m
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

// shape reports whether an expression must run metered (it has comprehensions, or calls a
// function charged by size), whether it loops, how many nodes it has, and how many the
// largest loop body (step and condition) has.
func shape(a *cel.Ast) (metered, loops bool, nodes, body uint64) {
	var count func(e ast.NavigableExpr) uint64
	count = func(e ast.NavigableExpr) uint64 {
		n := uint64(1)
		metered = metered || sizeCharged(e)
		if e.Kind() == ast.ComprehensionKind {
			metered, loops = true, true
			c := e.AsComprehension()
			b := size(c.LoopStep()) + size(c.LoopCondition())
			body = max(body, b)
		}
		for _, c := range e.Children() {
			n += count(c)
		}
		return n
	}
	nodes = count(ast.NavigateAST(a.NativeRep()))
	return metered, loops, nodes, body
}

func size(e ast.Expr) uint64 {
	n := uint64(0)
	ast.PostOrderVisit(e, ast.NewExprVisitor(func(ast.Expr) { n++ }))
	return n
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

// Keep charges a result that is kept to be read again (a var) for its size, counted
// through nested values: a list literal that holds another value twice costs little to
// build, so values nested in one another through vars would otherwise double unseen.
func (p *Program) Keep(v ref.Val, budget *Budget) error {
	if _, scalar := v.(types.String); scalar || !p.containerType() {
		return nil // built, and charged, by the expression itself
	}
	n := sizeOf(v, p.costLimit)
	if n > p.costLimit {
		return fmt.Errorf("%w: the value is more than %d units", ErrCostLimit, p.costLimit)
	}
	return budget.spend(n)
}

// containerType reports whether the expression's results may be lists or maps.
func (p *Program) containerType() bool {
	switch p.Type.Kind() {
	case types.ListKind, types.MapKind, types.DynKind, types.AnyKind, types.StructKind, types.OpaqueKind:
		return true
	}
	return false
}
