package cel

import (
	"fmt"
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

// quantityBound says why s is refused as a quantity, or nil. The decimal exponent is the
// digits after a final e or E ("1.5e3", "2E-7"); the suffixes E and Ei alone are exa and
// exbi, not exponents.
func quantityBound(s string) error {
	if len(s) > maxQuantityLen {
		return fmt.Errorf("quantity of %d bytes: loom takes at most %d", len(s), maxQuantityLen)
	}
	exp, ok := decimalExponent(s)
	if !ok {
		return nil
	}
	digits := strings.TrimLeft(exp, "0")
	if n, err := strconv.Atoi(digits); digits != "" && (err != nil || n > maxQuantityExponent) {
		return fmt.Errorf("quantity %q: its exponent is beyond ±%d, which loom does not compute with", s, maxQuantityExponent)
	}
	return nil
}

// decimalExponent is the digits of s's trailing [eE][+-]?[0-9]+, without the sign.
func decimalExponent(s string) (string, bool) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	digits := s[i:]
	if digits == "" {
		return "", false
	}
	if i > 0 && (s[i-1] == '+' || s[i-1] == '-') {
		i--
	}
	if i == 0 || (s[i-1] != 'e' && s[i-1] != 'E') {
		return "", false
	}
	return digits, true
}

// boundQuantities plans each call of quantity() and isQuantity() as a boundedQuantity.
func boundQuantities(i interpreter.Interpretable) (interpreter.Interpretable, error) {
	call, ok := i.(interpreter.InterpretableCall)
	if !ok || len(call.Args()) != 1 || (call.Function() != "quantity" && call.Function() != "isQuantity") {
		return i, nil
	}
	return &boundedQuantity{InterpretableCall: call, arg: call.Args()[0], is: call.Function() == "isQuantity"}, nil
}

// boundedQuantity is Kubernetes' quantity() or isQuantity() with quantityBound in front:
// quantity() of a refused string is an error naming the bound, isQuantity() is false.
type boundedQuantity struct {
	interpreter.InterpretableCall
	arg interpreter.Interpretable // Args()[0], which cel-go builds anew at every call
	is  bool                      // isQuantity() rather than quantity()
}

func (q *boundedQuantity) Eval(a interpreter.Activation) ref.Val {
	arg := q.arg.Eval(a)
	s, ok := arg.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	err := quantityBound(string(s))
	if q.is {
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
