package cel

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"unsafe"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// loomLib adds what templates need beyond the Kubernetes CEL libraries: writing a
// structured value into a string field (a ConfigMap's JSON file), a content hash for it,
// and base64 for Secrets.
//
//	json.encode(<dyn>) -> <string>
//	    The value as compact JSON with object keys sorted, so the same value always gives
//	    the same string (and the same hash). Null map entries and empty optionals are left
//	    out, as in templates.
//	    json.encode({"b": 1, "a": [true]}) == '{"a":[true],"b":1}'
//
//	sha256(<string>) -> <string>
//	    The SHA-256 of the string's UTF-8 bytes, as 64 lowercase hex digits.
//	    sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
//
// base64.encode(<bytes>) and base64.decode(<string>), standard base64, come with cel-go's
// encoders extension (ext.Encoders, in env.go's libraries).
type loomLib struct{}

func (loomLib) ProgramOptions() []cel.ProgramOption { return nil }

func (loomLib) CompileOptions() []cel.EnvOption {
	return []cel.EnvOption{
		cel.Function("json.encode",
			cel.Overload("json_encode_dyn", []*cel.Type{cel.DynType}, cel.StringType,
				cel.UnaryBinding(jsonEncode))),
		cel.Function("sha256",
			cel.Overload("sha256_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(sha256Hex))),
	}
}

// writers keeps json.encode's buffers from one call to the next.
var writers = sync.Pool{New: func() any { return &jsonWriter{} }}

func jsonEncode(v ref.Val) ref.Val {
	val, present, err := readJSON(v)
	if err != nil {
		return types.NewErr("json.encode: %v", err)
	}
	if !present {
		return types.String("null")
	}
	w := writers.Get().(*jsonWriter)
	defer func() {
		if cap(w.buf) <= 64<<10 { // a rare large value does not stay in memory
			writers.Put(w)
		}
	}()
	w.buf, w.keys = w.buf[:0], w.keys[:0]
	if err := w.value(val); err != nil {
		return types.NewErr("json.encode: %v", err)
	}
	return types.String(w.buf)
}

func sha256Hex(v ref.Val) ref.Val {
	s, ok := v.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(v)
	}
	// The string's bytes, read in place: hashing does not change them.
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(string(s)), len(s)))
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return types.String(out[:])
}
