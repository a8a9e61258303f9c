package cel

import (
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/library"
)

// DefaultCostLimit bounds one evaluation of one expression, in CEL cost units (about one
// unit per operation). It is the Kubernetes per-call limit divided by ten: templates are
// small, and a runaway comprehension should fail in milliseconds.
const DefaultCostLimit uint64 = 1_000_000

var (
	baseOnce sync.Once
	baseEnv  *cel.Env
	baseErr  error
)

// namedLib is one CEL library of the environment every graph starts from, as the
// reference (Reference) names it.
type namedLib struct {
	// name is how the reference titles it; link where its functions are documented.
	name, link string
	opt        cel.EnvOption
}

// libraries are the libraries of the base environment, in the reference's order: those of
// Kubernetes 1.33's CEL environment, cel-go's bindings (cel.bind), and loom's own.
var libraries = []namedLib{
	{"Kubernetes URLs", k8sLibDoc + "#URLs", library.URLs()},
	{"Kubernetes regex", k8sLibDoc + "#Regex", library.Regex()},
	{"Kubernetes lists", k8sLibDoc + "#Lists", library.Lists()},
	{"Kubernetes quantity", k8sLibDoc + "#Quantity", library.Quantity()},
	{"Kubernetes IP", k8sLibDoc + "#IP", library.IP()},
	{"Kubernetes CIDR", k8sLibDoc + "#CIDR", library.CIDR()},
	{"Kubernetes format", k8sLibDoc + "#Format", library.Format()},
	{"Kubernetes semver", k8sLibDoc + "#SemverLib", library.SemverLib(library.SemverVersion(1))},
	{"cel-go strings (ext.Strings, version 2)", celExtDoc + "#Strings", ext.Strings(ext.StringsVersion(2))},
	{"cel-go sets (ext.Sets)", celExtDoc + "#Sets", ext.Sets()},
	{"cel-go two-variable comprehensions (ext.TwoVarComprehensions)", celExtDoc + "#TwoVarComprehensions", ext.TwoVarComprehensions()},
	{"cel-go bindings (ext.Bindings)", celExtDoc + "#Bindings", ext.Bindings()},
	{"cel-go encoders (ext.Encoders)", celExtDoc + "#Encoders", ext.Encoders()},
	{"loom: JSON and hashes", "library.go", cel.Lib(loomLib{})},
	{"loom: maps", "maps.go", cel.Lib(mapsLib{})},
}

const (
	k8sLibDoc = "https://pkg.go.dev/k8s.io/apiserver@v0.33.13/pkg/cel/library"
	celExtDoc = "https://pkg.go.dev/github.com/google/cel-go@v0.23.2/ext"
)

// coreOptions are the options of the base environment besides its libraries: cel-go's
// standard functions and optional types.
func coreOptions() []cel.EnvOption {
	return []cel.EnvOption{
		cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		cel.ASTValidators(
			cel.ValidateDurationLiterals(),
			cel.ValidateTimestampLiterals(),
			cel.ValidateRegexLiterals(),
		),
	}
}

// base is the environment every graph starts from, built once per process. It holds the
// libraries of Kubernetes 1.33's CEL environment, but not its rule that list and map
// literals be homogeneous: templates build objects such as {"name": "http", "port": 80}.
func base() (*cel.Env, error) {
	baseOnce.Do(func() {
		opts := coreOptions()
		for _, l := range libraries {
			opts = append(opts, l.opt)
		}
		baseEnv, baseErr = cel.NewEnv(opts...)
	})
	return baseEnv, baseErr
}

// Variable declares one name expressions may use. Qualified names (vars.image,
// ready.deployment) are allowed: CEL resolves them as one variable.
type Variable struct {
	Name string
	Type *types.Type
}

// Env is the environment of one graph. Extend returns a new Env; an Env is never changed
// after it is made.
type Env struct {
	env       *cel.Env
	costLimit uint64
	declared  map[string]bool
	provider  *apiservercel.DeclTypeProvider // the graph's object types; nil when none
}

// NewEnv builds the environment of one graph: the Kubernetes base libraries, the object
// types the graph's variables use (declTypes), and its variables.
func NewEnv(declTypes []*apiservercel.DeclType, vars []Variable, costLimit uint64) (*Env, error) {
	b, err := base()
	if err != nil {
		return nil, fmt.Errorf("building the CEL environment: %w", err)
	}
	var opts []cel.EnvOption
	var provider *apiservercel.DeclTypeProvider
	adapt := b.TypeAdapter()
	if len(declTypes) > 0 {
		provider = apiservercel.NewDeclTypeProvider(declTypes...)
		provider.SetRecognizeKeywordAsFieldName(true)
		// What provider.EnvOptions sets up, but with its adapter wrapped in adapter.
		typed, err := provider.WithTypeProvider(b.CELTypeProvider())
		if err != nil {
			return nil, fmt.Errorf("declaring the graph's object types: %w", err)
		}
		opts = append(opts, cel.CustomTypeProvider(typed))
		adapt = typed
	}
	opts = append(opts, cel.CustomTypeAdapter(adapter{adapt}))
	for _, v := range vars {
		opts = append(opts, cel.Variable(v.Name, v.Type))
	}
	env, err := b.Extend(opts...)
	if err != nil {
		return nil, fmt.Errorf("building the CEL environment: %w", err)
	}
	if costLimit == 0 {
		costLimit = DefaultCostLimit
	}
	declared := make(map[string]bool, len(vars))
	for _, v := range vars {
		declared[v.Name] = true
	}
	return &Env{env: env, costLimit: costLimit, declared: declared, provider: provider}, nil
}

// Extend adds variables.
func (e *Env) Extend(vars ...Variable) (*Env, error) {
	opts := make([]cel.EnvOption, 0, len(vars))
	for _, v := range vars {
		opts = append(opts, cel.Variable(v.Name, v.Type))
	}
	env, err := e.env.Extend(opts...)
	if err != nil {
		return nil, err
	}
	declared := make(map[string]bool, len(e.declared)+len(vars))
	for n := range e.declared {
		declared[n] = true
	}
	for _, v := range vars {
		declared[v.Name] = true
	}
	return &Env{env: env, costLimit: e.costLimit, declared: declared, provider: e.provider}, nil
}

// CompileError is a syntax or type error in one expression.
type CompileError struct {
	Source string
	Issues string
}

func (e *CompileError) Error() string { return e.Issues }

// Compile parses, type-checks and plans one expression.
func (e *Env) Compile(src string) (*Program, error) {
	ast, iss := e.env.Compile(src)
	if iss.Err() != nil {
		return nil, &CompileError{Source: src, Issues: cleanIssues(iss.Err().Error())}
	}
	metered, loops, nodes, body := shape(ast)
	p := &Program{Source: src, Type: ast.OutputType(), Refs: references(ast, e.declared),
		fixedCost: nodes, stepCost: body, costLimit: e.costLimit, metered: metered, loops: loops}
	p.path, _ = selectPath(ast, p.Refs)
	var charges map[int64]argCharge
	if metered {
		charges = argCharges(ast)
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize), cel.CustomDecorator(boundQuantities), cel.CustomDecorator(foldConstantCalls(charges))}
	if metered {
		// Comprehensions ask their activation "#interrupted" at every step, and calls
		// charged by size ask it for "#meter"; the meter answers, counting against the cost
		// limit and watching the context. (cel-go's own cost tracking re-plans the program
		// on every evaluation: ten times dearer.)
		opts = append(opts, cel.InterruptCheckFrequency(1), cel.CustomDecorator(sizeDecorator(charges)))
	}
	// Planned here only to report what planning refuses (a constant regex find() cannot
	// compile) with the expression, then again at the first evaluation: a planned program
	// holds its own copy of every function binding of the environment (tens of kilobytes),
	// and many expressions of a graph never run in a given cluster (mtls, a failing
	// check's message) or are read as paths without CEL (Lookup).
	p.plan = func() (cel.Program, error) { return e.env.Program(ast, opts...) }
	if _, err := p.plan(); err != nil {
		return nil, &CompileError{Source: src, Issues: err.Error()}
	}
	return p, nil
}

// foldConstantCalls evaluates, as the program is planned, each call whose arguments are
// all constants (quantity("0"), optional.none()) and each list or map literal of constants
// (a check's forEach list): it gives the same value at every evaluation, and CEL values
// are immutable. cel-go folds only type conversions so. A call that fails is left to fail
// when evaluated, and calls cost.go charges by size (the function, or the call as the
// argument of one: charges) are left as they are, so that the cost is the same: the rest
// cost their nodes, counted before any folding (shape).
func foldConstantCalls(charges map[int64]argCharge) interpreter.InterpretableDecorator {
	return func(i interpreter.Interpretable) (interpreter.Interpretable, error) {
		if lit, ok := i.(interpreter.InterpretableConstructor); ok && lit.Type() != types.TypeType {
			return foldConstant(i, lit.InitVals()), nil
		}
		call, ok := i.(interpreter.InterpretableCall)
		if !ok || chargedBefore[call.Function()] || chargedAfter[call.Function()] {
			return i, nil
		}
		if _, charged := charges[call.ID()]; charged {
			return i, nil
		}
		return foldConstant(i, call.Args()), nil
	}
}

// foldConstant is i evaluated now when its operands are all constants, else i.
func foldConstant(i interpreter.Interpretable, operands []interpreter.Interpretable) interpreter.Interpretable {
	for _, a := range operands {
		if _, isConst := a.(interpreter.InterpretableConst); !isConst {
			return i
		}
	}
	v := i.Eval(interpreter.EmptyActivation())
	if types.IsUnknownOrError(v) {
		return i
	}
	return interpreter.NewConstValue(i.ID(), v)
}

// Parse only parses src; the references it returns are the qualified names it mentions
// (vars.image, deployment), found without type information. The graph uses it to order
// vars before their types are known.
func (e *Env) Parse(src string) ([]string, error) {
	ast, iss := e.env.Parse(src)
	if iss.Err() != nil {
		return nil, &CompileError{Source: src, Issues: cleanIssues(iss.Err().Error())}
	}
	return syntacticRefs(ast), nil
}

// cleanIssues drops cel-go's "ERROR: <input>:1:2:" prefixes: the caller says where.
func cleanIssues(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "ERROR: <input>:") {
			parts := strings.SplitN(line, ": ", 3)
			if len(parts) == 3 {
				line = parts[2]
			}
		}
		out = append(out, strings.ReplaceAll(line, " (in container '')", ""))
	}
	return strings.Join(out, "\n")
}
