package cel

import (
	"fmt"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// ToJSON converts a CEL result to a JSON-safe Go value: nil, bool, int64, float64, string,
// []any or map[string]any. Integers stay int64. present is false for null and for an empty
// optional, which a template reads as "omit this field"; map entries and list items that are
// null or empty optionals are dropped the same way.
func ToJSON(v ref.Val) (out any, present bool, err error) {
	if out, present, ok, err := scalarJSON(v); ok {
		return out, present, err
	}
	// Objects and lists read from the instance or observed objects are native JSON already;
	// lists joined with + hold CEL values among them, which nativeJSON converts.
	switch n := v.Value().(type) {
	case map[string]any:
		return nativeJSON(n)
	case []any:
		return nativeJSON(n)
	case map[ref.Val]ref.Val: // a map literal: walk it without an iterator
		out := make(map[string]any, len(n))
		for k, e := range n {
			if err := putEntry(out, k, e); err != nil {
				return nil, false, err
			}
		}
		return out, true, nil
	case []ref.Val: // a list literal or a comprehension's result
		out := make([]any, 0, len(n))
		for i, e := range n {
			if out, err = appendItem(out, i, e); err != nil {
				return nil, false, err
			}
		}
		return out, true, nil
	}
	return iterableJSON(v)
}

// scalarJSON converts the CEL values that are not containers; ok is false for the others.
func scalarJSON(v ref.Val) (out any, present, ok bool, err error) {
	switch x := v.(type) {
	case types.Null:
		return nil, false, true, nil
	case types.Bool:
		return bool(x), true, true, nil
	case types.Int:
		return int64(x), true, true, nil
	case types.Uint:
		if uint64(x) > 1<<63-1 {
			return nil, false, true, fmt.Errorf("unsigned value %d does not fit in a JSON integer", uint64(x))
		}
		return int64(x), true, true, nil
	case types.Double:
		return float64(x), true, true, nil
	case types.String:
		return string(x), true, true, nil
	case types.Duration:
		return x.Duration.String(), true, true, nil
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339), true, true, nil
	case *types.Optional:
		if !x.HasValue() {
			return nil, false, true, nil
		}
		out, present, err := ToJSON(x.GetValue())
		return out, present, true, err
	case *types.Err:
		return nil, false, true, x
	}
	return nil, false, false, nil
}

// iterableJSON converts maps and lists that are neither native JSON nor literals, through
// their iterators, and library types (quantity, url, ip, cidr, semver) to their canonical
// string.
func iterableJSON(v ref.Val) (any, bool, error) {
	if m, ok := v.(traits.Mapper); ok {
		out := map[string]any{}
		for it := m.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			if err := putEntry(out, k, m.Get(k)); err != nil {
				return nil, false, err
			}
		}
		return out, true, nil
	}
	if l, ok := v.(traits.Lister); ok {
		out := []any{}
		it := l.Iterator()
		for i := 0; it.HasNext() == types.True; i++ {
			var err error
			if out, err = appendItem(out, i, it.Next()); err != nil {
				return nil, false, err
			}
		}
		return out, true, nil
	}
	if s, ok := v.Value().(fmt.Stringer); ok {
		return s.String(), true, nil
	}
	return nil, false, fmt.Errorf("a value of type %s cannot be written into an object", v.Type())
}

// putEntry converts one map entry into out, unless its value is absent.
func putEntry(out map[string]any, k, e ref.Val) error {
	ks, ok := k.(types.String)
	if !ok {
		return fmt.Errorf("map key %v is a %s: object keys must be strings", k, k.Type())
	}
	val, present, err := ToJSON(e)
	if err != nil {
		return fmt.Errorf("[%q]: %w", string(ks), err)
	}
	if present {
		out[string(ks)] = val
	}
	return nil
}

// appendItem converts item i of a list onto out, unless it is absent.
func appendItem(out []any, i int, e ref.Val) ([]any, error) {
	val, present, err := ToJSON(e)
	if err != nil {
		return nil, fmt.Errorf("[%d]: %w", i, err)
	}
	if present {
		out = append(out, val)
	}
	return out, nil
}

// nativeJSON deep-copies a native JSON value, converting any CEL values inside it.
func nativeJSON(v any) (any, bool, error) {
	switch x := v.(type) {
	case ref.Val:
		return ToJSON(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			val, present, err := nativeJSON(e)
			if err != nil {
				return nil, false, fmt.Errorf("[%q]: %w", k, err)
			}
			if present {
				out[k] = val
			}
		}
		return out, true, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			val, present, err := nativeJSON(e)
			if err != nil {
				return nil, false, fmt.Errorf("[%d]: %w", i, err)
			}
			if present {
				out = append(out, val)
			}
		}
		return out, true, nil
	case nil:
		return nil, false, nil
	case string, bool, int64, float64, int, int32:
		return CopyJSON(v), true, nil
	}
	// Other native values (a map[ref.Val]ref.Val a CEL list holds) convert as CEL values.
	return ToJSON(types.DefaultTypeAdapter.NativeToValue(v))
}

// CopyJSON deep-copies a JSON value, so results never alias the inputs they came from.
func CopyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = CopyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = CopyJSON(e)
		}
		return out
	case int:
		return int64(x)
	case int32:
		return int64(x)
	}
	return v
}
