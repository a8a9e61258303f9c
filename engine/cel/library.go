package cel

import (
	"crypto/sha256"
	"encoding/hex"

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

func jsonEncode(v ref.Val) ref.Val {
	val, present, err := ToJSON(v)
	if err != nil {
		return types.NewErr("json.encode: %v", err)
	}
	if !present {
		return types.String("null")
	}
	w := jsonWriter{buf: make([]byte, 0, 512)}
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
	sum := sha256.Sum256([]byte(s))
	return types.String(hex.EncodeToString(sum[:]))
}
