package render

import (
	"fmt"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/traits"

	"github.com/loom-mcp/loom/engine/graph"
)

// check makes one check, once per item of its forEach when it has one, and returns what
// each failure says: "field: message", or the error that stopped an evaluation.
func (r *evaluator) check(c *graph.Check) []string {
	if c.ForEach == nil {
		return r.checkOnce(c)
	}
	v, err := r.run(c.ForEach)
	if err != nil {
		return []string{err.Error()}
	}
	if v == types.NullValue {
		return nil
	}
	items, ok := v.(traits.Lister)
	if !ok {
		return []string{(&EvalError{Expr: c.ForEach, Err: fmt.Errorf("expected a list, got %s", v.Type())}).Error()}
	}
	s := *r.scope
	ev := *r
	ev.scope = &s
	var out []string
	// each holds the items as CEL values: the rule reads them without converting them.
	for it := items.Iterator(); it.HasNext() == types.True; {
		s.each = it.Next()
		out = append(out, ev.checkOnce(c)...)
	}
	return out
}

// checkOnce evaluates a check's rule, and on failure its field and message.
func (r *evaluator) checkOnce(c *graph.Check) []string {
	ok, err := r.boolean(c.Rule)
	if err != nil {
		return []string{err.Error()}
	}
	if ok {
		return nil
	}
	msg, err := r.text(c.Message)
	if err != nil {
		return []string{err.Error()}
	}
	if c.Field != nil {
		field, err := r.text(c.Field)
		if err != nil {
			return []string{err.Error()}
		}
		if field != "" {
			msg = field + ": " + msg
		}
	}
	return []string{msg}
}

// text evaluates a string tree: a literal or a string template.
func (r *evaluator) text(t *graph.Tree) (string, error) {
	v, _, err := r.eval(t)
	s, _ := v.(string)
	return s, err
}
