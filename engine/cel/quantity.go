package cel

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"k8s.io/apimachinery/pkg/api/resource"
	apiservercel "k8s.io/apiserver/pkg/cel"
)

// Kubernetes parses "1E100000000" as a quantity in microseconds, but comparing it with
// another, or adding to it, computes a power of ten with as many digits as its exponent:
// minutes inside one call, where neither the cost limit nor the render's deadline can stop
// it. So loom's quantity() and isQuantity() refuse what no resource amount needs: a string
// over maxQuantityLen bytes, or a decimal exponent beyond ±maxQuantityExponent.
const (
	maxQuantityLen      = 64
	maxQuantityExponent = 1000
)

// quantityExponent is the decimal exponent of a quantity string ("1.5e3", "2E-7"); the
// suffixes E and Ei alone are exa and exbi, not exponents.
var quantityExponent = regexp.MustCompile(`[eE]([+-]?[0-9]+)$`)

// quantityBound says why s is refused as a quantity, or nil.
func quantityBound(s string) error {
	if len(s) > maxQuantityLen {
		return fmt.Errorf("quantity of %d bytes: loom takes at most %d", len(s), maxQuantityLen)
	}
	m := quantityExponent.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	digits := strings.TrimLeft(strings.TrimLeft(m[1], "+-"), "0")
	if n, err := strconv.Atoi(digits); digits != "" && (err != nil || n > maxQuantityExponent) {
		return fmt.Errorf("quantity %q: its exponent is beyond ±%d, which loom does not compute with", s, maxQuantityExponent)
	}
	return nil
}

// boundQuantities plans each call of quantity() and isQuantity() as a boundedQuantity.
func boundQuantities(i interpreter.Interpretable) (interpreter.Interpretable, error) {
	call, ok := i.(interpreter.InterpretableCall)
	if !ok || len(call.Args()) != 1 || (call.Function() != "quantity" && call.Function() != "isQuantity") {
		return i, nil
	}
	return &boundedQuantity{InterpretableCall: call}, nil
}

// boundedQuantity is Kubernetes' quantity() or isQuantity() with quantityBound in front:
// quantity() of a refused string is an error naming the bound, isQuantity() is false.
type boundedQuantity struct {
	interpreter.InterpretableCall
}

func (q *boundedQuantity) Eval(a interpreter.Activation) ref.Val {
	arg := q.Args()[0].Eval(a)
	s, ok := arg.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	err := quantityBound(string(s))
	if q.Function() == "isQuantity" {
		if err == nil {
			_, err = resource.ParseQuantity(string(s))
		}
		return types.Bool(err == nil)
	}
	if err != nil {
		return types.WrapErr(err)
	}
	parsed, err := resource.ParseQuantity(string(s))
	if err != nil {
		return types.WrapErr(err)
	}
	return apiservercel.Quantity{Quantity: &parsed}
}
