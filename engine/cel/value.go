package cel

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// ToJSON converts a CEL result to a JSON-safe Go value: nil, bool, int64, float64, string,
// []any or map[string]any. Integers stay int64. present is false for null and for an empty
// optional, which a template reads as "omit this field"; map entries and list items that are
// null or empty optionals are dropped the same way.
//
// The result may hold at most MaxValueSize units (a unit per value and per byte of a
// string): values shared within a CEL result (a list holding one list twice) are copied
// as many times as they occur, and nothing larger could be applied anyway.
func ToJSON(v ref.Val) (out any, present bool, err error) {
	c := converter{left: MaxValueSize}
	return c.toJSON(v)
}

// MaxValueSize bounds what ToJSON produces: 3 MiB, the API server's request limit, in
// units of one per value and one per byte of a string.
const MaxValueSize = 3 << 20

// ErrTooLarge is ToJSON's error for a value past MaxValueSize.
var ErrTooLarge = fmt.Errorf("the value is larger than %d units (a unit per value and per byte of a string), the API server's request limit", MaxValueSize)

// converter is one ToJSON conversion: what is left of its size, and whether the result
// may share native JSON values with v.
type converter struct {
	left  int
	share bool
}

// readJSON is ToJSON for a caller that only reads the result (json.encode): native JSON
// values in v that need no conversion (a var written as a template) are returned as they
// are rather than copied.
func readJSON(v ref.Val) (out any, present bool, err error) {
	c := converter{left: MaxValueSize, share: true}
	return c.toJSON(v)
}

// spend takes n units; false once the value is too large.
func (c *converter) spend(n int) bool {
	c.left -= n
	return c.left >= 0
}

func (c *converter) toJSON(v ref.Val) (out any, present bool, err error) {
	if !c.spend(1) {
		return nil, false, ErrTooLarge
	}
	if out, present, ok, err := c.scalarJSON(v); ok {
		return out, present, err
	}
	// Objects and lists read from the instance or observed objects are native JSON already;
	// lists joined with + hold CEL values among them, which nativeJSON converts.
	switch n := v.Value().(type) {
	case map[string]any:
		return c.nativeJSON(n)
	case []any:
		return c.nativeJSON(n)
	case map[ref.Val]ref.Val: // a map literal: walk it without an iterator
		out := make(map[string]any, len(n))
		for k, e := range n {
			if err := c.putEntry(out, k, e); err != nil {
				return nil, false, err
			}
		}
		return out, true, nil
	case []ref.Val: // a list literal or a comprehension's result
		out := make([]any, 0, len(n))
		for i, e := range n {
			if out, err = c.appendItem(out, i, e); err != nil {
				return nil, false, err
			}
		}
		return out, true, nil
	}
	return c.iterableJSON(v)
}

// scalarJSON converts the CEL values that are not containers; ok is false for the others.
func (c *converter) scalarJSON(v ref.Val) (out any, present, ok bool, err error) {
	switch x := v.(type) {
	case types.Null:
		return nil, false, true, nil
	case types.Bool:
		return bool(x), true, true, nil
	case types.Int:
		return sameData(v, int64(0)), true, true, nil
	case types.Uint:
		if uint64(x) > 1<<63-1 {
			return nil, false, true, fmt.Errorf("unsigned value %d does not fit in a JSON integer", uint64(x))
		}
		return int64(x), true, true, nil
	case types.Double:
		return sameData(v, float64(0)), true, true, nil
	case types.String:
		if !c.spend(len(x)) {
			return nil, false, true, ErrTooLarge
		}
		return sameData(v, ""), true, true, nil
	case types.Duration:
		return x.Duration.String(), true, true, nil
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339), true, true, nil
	case *types.Optional:
		if !x.HasValue() {
			return nil, false, true, nil
		}
		out, present, err := c.toJSON(x.GetValue())
		return out, present, true, err
	case *types.Err:
		return nil, false, true, x
	}
	return nil, false, false, nil
}

// sameData returns v's value as a value of zero's Go type, which must be the type the CEL
// type of v is defined on (types.String: string, types.Int: int64, types.Double: float64),
// without a copy: an interface value is a type and a pointer to the data, and CEL values
// are never changed, so the new interface points at v's data. string(x) would allocate for
// every string a template writes, most of what a render allocates outside CEL.
func sameData(v ref.Val, zero any) any {
	(*[2]unsafe.Pointer)(unsafe.Pointer(&zero))[1] = (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1]
	return zero
}

// iterableJSON converts maps and lists that are neither native JSON nor literals, through
// their iterators, and library types (quantity, url, ip, cidr, semver) to their canonical
// string.
func (c *converter) iterableJSON(v ref.Val) (any, bool, error) {
	if m, ok := v.(traits.Mapper); ok {
		out := map[string]any{}
		for it := m.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			if err := c.putEntry(out, k, m.Get(k)); err != nil {
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
			if out, err = c.appendItem(out, i, it.Next()); err != nil {
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
func (c *converter) putEntry(out map[string]any, k, e ref.Val) error {
	ks, ok := k.(types.String)
	if !ok {
		return fmt.Errorf("map key %v is a %s: object keys must be strings", k, k.Type())
	}
	val, present, err := c.toJSON(e)
	if err != nil {
		return fmt.Errorf("[%q]: %w", string(ks), err)
	}
	if present {
		out[string(ks)] = val
	}
	return nil
}

// appendItem converts item i of a list onto out, unless it is absent.
func (c *converter) appendItem(out []any, i int, e ref.Val) ([]any, error) {
	val, present, err := c.toJSON(e)
	if err != nil {
		return nil, fmt.Errorf("[%d]: %w", i, err)
	}
	if present {
		out = append(out, val)
	}
	return out, nil
}

// nativeJSON deep-copies a native JSON value, converting any CEL values inside it.
func (c *converter) nativeJSON(v any) (any, bool, error) {
	if c.share {
		if n, ok := plainJSON(v, c.left); ok {
			c.left -= n
			return v, true, nil
		}
	}
	if !c.spend(1) {
		return nil, false, ErrTooLarge
	}
	switch x := v.(type) {
	case ref.Val:
		return c.toJSON(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			val, present, err := c.nativeJSON(e)
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
			val, present, err := c.nativeJSON(e)
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
	case string:
		if !c.spend(len(x)) {
			return nil, false, ErrTooLarge
		}
		return v, true, nil // v, not x: no new interface value to allocate
	case bool, int64, float64, int, int32:
		return CopyJSON(v), true, nil
	}
	// Other native values (a map[ref.Val]ref.Val a CEL list holds) convert as CEL values.
	return c.toJSON(types.DefaultTypeAdapter.NativeToValue(v))
}

// plainJSON reports whether v is a map or list that nativeJSON would copy unchanged, of
// at most max units, and its units (as nativeJSON counts them).
func plainJSON(v any, max int) (units int, ok bool) {
	units, ok = 1, true
	add := func(e any) {
		n, plain := plainValue(e, max-units)
		units, ok = units+n, ok && plain
	}
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if add(e); !ok {
				return 0, false
			}
		}
	case []any:
		for _, e := range x {
			if add(e); !ok {
				return 0, false
			}
		}
	default:
		return 0, false
	}
	return units, units <= max
}

func plainValue(v any, max int) (int, bool) {
	switch x := v.(type) {
	case string:
		return 1 + len(x), 1+len(x) <= max
	case bool, int64, float64:
		return 1, max >= 1
	}
	return plainJSON(v, max)
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
