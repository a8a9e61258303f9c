package cel

import (
	"encoding/json"
	"math"
	"testing"

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
