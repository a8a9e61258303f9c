package cel

import (
	"unsafe"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// adapter converts native values into CEL values as the environment's own adapter does,
// but strings and numbers without a copy (sameData): CEL converts every value an
// expression reads from the instance, the configuration, an observed object or a var
// written as a template, and copying a string into a CEL value allocates. Maps and lists
// are wrapped with this adapter too, so that what is read from them converts the same way.
type adapter struct{ types.Adapter }

func (a adapter) NativeToValue(v any) ref.Val {
	switch x := v.(type) {
	case string:
		return celSameData(v, types.String(""))
	case int64:
		return celSameData(v, types.Int(0))
	case float64:
		return celSameData(v, types.Double(0))
	case map[string]any:
		return types.NewStringInterfaceMap(a, x)
	case []any:
		return types.NewDynamicList(a, x)
	}
	return a.Adapter.NativeToValue(v)
}

// celSameData is sameData the other way: v's value as the CEL value zero is, which must
// be of the CEL type defined on v's Go type.
func celSameData(v any, zero ref.Val) ref.Val {
	(*[2]unsafe.Pointer)(unsafe.Pointer(&zero))[1] = (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1]
	return zero
}
