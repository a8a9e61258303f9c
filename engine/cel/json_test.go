package cel

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/google/cel-go/common/types"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJSONWriterMatchesEncodingJSON: json.encode's output is hashed into policy revisions,
// so its writer must give exactly encoding/json's bytes.
func TestJSONWriterMatchesEncodingJSON(t *testing.T) {
	tests := []any{
		nil, true, false, int64(0), int64(-42), int64(math.MaxInt64), int64(math.MinInt64),
		0.0, 2.5, -1e-7, 1e21, 123456789.125, 1e-6,
		"", "plain", `q"uote`, `back\slash`, "<a href='x'>&amp;</a>", "tab\tnew\nline\r\b\f\x01\x1f",
		"é ünïcödé 雪", "line\u2028para\u2029", "bad \xff utf-8", "\x7f",
		[]any{}, map[string]any{},
		[]any{int64(1), "two", nil, false, []any{map[string]any{"k": "v"}}},
		map[string]any{
			"b": int64(1), "a": []any{true, "x"}, "B": "upper", "é": "key", "<k>": "html key",
			"nested": map[string]any{"z": map[string]any{"y": []any{map[string]any{"x": 1.5, "w": nil}}}, "a": ""},
		},
	}
	for _, v := range tests {
		want, err := json.Marshal(v)
		require.NoError(t, err)
		w := jsonWriter{}
		require.NoError(t, w.value(v))
		assert.Equal(t, string(want), string(w.buf), "%#v", v)
		assert.Empty(t, w.keys)
	}
}

func TestJSONWriterErrors(t *testing.T) {
	for _, v := range []any{math.NaN(), map[string]any{"a": []any{math.Inf(1)}}} {
		_, want := json.Marshal(v)
		require.Error(t, want)
		w := jsonWriter{}
		assert.EqualError(t, w.value(v), want.Error())
	}
}

// TestReadJSON: json.encode's conversion gives ToJSON's value and errors, sharing the
// native values that need no conversion.
func TestReadJSON(t *testing.T) {
	plain := map[string]any{"a": "x", "n": int64(1), "l": []any{1.5, true, map[string]any{}}}
	big := strings.Repeat("x", MaxValueSize)
	tests := []struct {
		name   string
		native any
		shared bool
	}{
		{"plain", plain, true},
		{"a null to drop", map[string]any{"a": nil, "b": "x"}, false},
		{"an int to convert", []any{1, int64(2)}, false},
		{"a CEL value inside", map[string]any{"a": types.String("x")}, false},
		{"too large", map[string]any{"k": map[string]any{"big": big}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := types.DefaultTypeAdapter.NativeToValue(tt.native)
			want, wantPresent, wantErr := ToJSON(v)
			got, present, err := readJSON(v)
			if wantErr != nil {
				require.EqualError(t, err, wantErr.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, wantPresent, present)
			assert.Equal(t, want, got)
			assert.Equal(t, tt.shared, reflect.ValueOf(got).UnsafePointer() == reflect.ValueOf(tt.native).UnsafePointer())
		})
	}
}
