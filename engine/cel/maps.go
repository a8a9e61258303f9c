package cel

import (
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// mapsLib combines maps the way templates layer settings: a platform's defaults under a
// spec's overrides, labels with extra labels, a copy of a map without the keys another
// object owns.
//
//	<map(K, V)>.merge(<map(K, V)>) -> <map(K, V)>
//	    The entries of both maps; where both hold a key, the argument's value wins. One
//	    level only: a nested map of the argument replaces the receiver's whole.
//	    {"app": "web", "tier": "a"}.merge({"tier": "b"}) == {"app": "web", "tier": "b"}
//
//	<map(K, V)>.deepMerge(<map(K, W)>) -> <map(K, dyn)>
//	    As merge, but where both values of a key are maps, they are merged the same way,
//	    at every depth. Any other value of the argument (a list, a string, null) replaces
//	    the receiver's: lists are not concatenated. A null in the argument therefore
//	    removes the key from what a template writes (null map entries are left out). The
//	    values may differ in type, so the result's are dyn.
//	    {"a": {"x": 1, "y": 2}}.deepMerge({"a": {"y": 3}}) == {"a": {"x": 1, "y": 3}}
//
//	<map(K, V)>.omit(<list(K)>) -> <map(K, V)>
//	    The map without the listed keys; keys it does not hold are ignored. There is no
//	    form that drops null values: a template leaves null entries out when it writes a
//	    map into an object, so they need no omitting.
//	    {"a": 1, "b": 2, "c": 3}.omit(["a", "c"]) == {"b": 2}
//
// merge's receiver and argument have one map type: merging map(string, string) labels
// with a map of ints is a type error. An object typed from a schema (the
// instance's spec, an observed object) is not a map to the type checker; wrap it in dyn()
// (dyn(schema.spec.podTemplate).deepMerge({...})).
//
// What they cost (cost.go): merge and omit a unit per entry of their result, after they
// run; deepMerge a unit per entry of every map it builds, counted before it runs, so a
// value nested in itself many times stops at the cost limit instead of being walked.
type mapsLib struct{}

func (mapsLib) ProgramOptions() []cel.ProgramOption { return nil }

func (mapsLib) CompileOptions() []cel.EnvOption {
	k, v, w := cel.TypeParamType("K"), cel.TypeParamType("V"), cel.TypeParamType("W")
	m := cel.MapType(k, v)
	return []cel.EnvOption{
		cel.Function("merge",
			cel.MemberOverload("map_merge_map", []*cel.Type{m, m}, m,
				cel.BinaryBinding(func(a, b ref.Val) ref.Val { return merge(a, b, false) }))),
		cel.Function("deepMerge",
			cel.MemberOverload("map_deep_merge_map", []*cel.Type{m, cel.MapType(k, w)}, cel.MapType(k, cel.DynType),
				cel.BinaryBinding(func(a, b ref.Val) ref.Val { return merge(a, b, true) }))),
		cel.Function("omit",
			cel.MemberOverload("map_omit_list", []*cel.Type{m, cel.ListType(k)}, m,
				cel.BinaryBinding(omit))),
	}
}

// merge returns a's entries overlaid with b's; deep merges the values that are maps on
// both sides the same way.
func merge(a, b ref.Val, deep bool) ref.Val {
	am, ok1 := a.(traits.Mapper)
	bm, ok2 := b.(traits.Mapper)
	if !ok1 || !ok2 {
		return types.MaybeNoSuchOverloadErr(a)
	}
	out := make(map[ref.Val]ref.Val, mapLen(am)+mapLen(bm))
	entries(am, func(key, val ref.Val) { out[key] = val })
	entries(bm, func(key, val ref.Val) {
		if old, ok := out[key]; ok && deep {
			_, oldMap := old.(traits.Mapper)
			_, newMap := val.(traits.Mapper)
			if oldMap && newMap {
				val = merge(old, val, true)
			}
		}
		out[key] = val
	})
	return types.NewRefValMap(types.DefaultTypeAdapter, out)
}

// omit returns m without the keys of the list.
func omit(m, keys ref.Val) ref.Val {
	mm, ok1 := m.(traits.Mapper)
	kl, ok2 := keys.(traits.Lister)
	if !ok1 || !ok2 {
		return types.MaybeNoSuchOverloadErr(m)
	}
	drop := map[ref.Val]bool{}
	for it := kl.Iterator(); it.HasNext() == types.True; {
		drop[it.Next()] = true
	}
	out := make(map[ref.Val]ref.Val, mapLen(mm))
	entries(mm, func(key, val ref.Val) {
		if !drop[key] {
			out[key] = val
		}
	})
	return types.NewRefValMap(types.DefaultTypeAdapter, out)
}

// entries calls f with each entry of m: straight from the Go map for the two kinds a
// template meets (objects read from the cluster or the instance, and map literals), which
// is several times faster than cel-go's iterator and lookups.
func entries(m traits.Mapper, f func(key, val ref.Val)) {
	switch native := m.Value().(type) {
	case map[string]any:
		for k, v := range native {
			f(types.String(k), types.DefaultTypeAdapter.NativeToValue(v))
		}
		return
	case map[ref.Val]ref.Val:
		for k, v := range native {
			f(k, v)
		}
		return
	}
	for it := m.Iterator(); it.HasNext() == types.True; {
		key := it.Next()
		f(key, m.Get(key))
	}
}

func mapLen(m traits.Mapper) int {
	if n, ok := m.Size().(types.Int); ok {
		return int(n)
	}
	return 0
}

// deepMergeCost is the number of entries of the maps a.deepMerge(b) builds, counted up to
// limit (and a little past it): the entries of the result and, for each key whose values
// are maps on both sides, those of their merge.
func deepMergeCost(a, b ref.Val, limit uint64) uint64 {
	am, ok1 := a.(traits.Mapper)
	bm, ok2 := b.(traits.Mapper)
	if !ok1 || !ok2 {
		return 1
	}
	n := uint64(mapLen(am) + mapLen(bm))
	for it := bm.Iterator(); it.HasNext() == types.True && n <= limit; {
		key := it.Next()
		old, found := am.Find(key)
		if !found {
			continue
		}
		_, oldMap := old.(traits.Mapper)
		val := bm.Get(key)
		if _, newMap := val.(traits.Mapper); oldMap && newMap {
			n += deepMergeCost(old, val, limit-n)
		}
	}
	return n
}
