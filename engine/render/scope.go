package render

import (
	"strings"

	"github.com/google/cel-go/interpreter"
	"github.com/loom-mcp/loom/engine/parse"
)

// scope is what expressions see: one per render, passed to every program as its
// activation, so evaluation allocates no maps of its own.
type scope struct {
	instance map[string]any
	config   map[string]any
	vars     map[string]any
	observed map[string]map[string]any
	reads    map[string]any // resolved reads (read.go) and complete collections (collection.go), by id
	each     any            // the item of a collection being rendered (collection.go)
	// Status only.
	ready  map[string]bool
	errors []string
	status bool
	// allReady and anyReady over the nodes the instance waits for (status.go).
	allReady, anyReady bool
	defaulted          *defaultedView
	// computeVar computes a var the first time an expression reads it (evaluator.readVar).
	computeVar func(name string) (any, bool)
}

var _ interpreter.Activation = (*scope)(nil)

func (s *scope) ResolveName(name string) (any, bool) {
	switch name {
	case parse.NameSchema:
		return s.instance, true
	case parse.NameConfig:
		return s.config, true
	case parse.NameDefaulted:
		return s.defaulted.get(), true
	case parse.NameErrors:
		return s.errors, s.status
	case parse.NameAllReady:
		return s.allReady, s.status
	case parse.NameAnyReady:
		return s.anyReady, s.status
	case parse.NameEach:
		return s.each, s.each != nil
	}
	if rest, ok := strings.CutPrefix(name, parse.NameVars+"."); ok {
		if v, ok := s.vars[rest]; ok {
			return v, true
		}
		return s.computeVar(rest)
	}
	if rest, ok := strings.CutPrefix(name, parse.NameReady+"."); ok && s.status {
		return s.ready[rest], true
	}
	if v, ok := s.reads[name]; ok {
		return v, true
	}
	o, ok := s.observed[name]
	return o, ok && o != nil
}

func (s *scope) Parent() interpreter.Activation { return nil }
