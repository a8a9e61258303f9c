package cel

import (
	"encoding/json"
	"slices"
	"strconv"
)

// jsonWriter writes what ToJSON returns as encoding/json writes it (object keys sorted,
// strings with <, >, & and control characters escaped), the bytes unchanged, without its
// reflection: json.encode runs on every render of a server with a gateway, and
// encoding/json allocated for every map entry it walked. Values it has no fast way for
// (floats, strings with characters to escape) it leaves to encoding/json, one at a time.
type jsonWriter struct {
	buf  []byte
	keys []string // the keys of the maps being written, innermost last
}

func (w *jsonWriter) value(v any) error {
	switch x := v.(type) {
	case nil:
		w.buf = append(w.buf, "null"...)
	case bool:
		w.buf = strconv.AppendBool(w.buf, x)
	case int64:
		w.buf = strconv.AppendInt(w.buf, x, 10)
	case string:
		return w.string(x)
	case map[string]any:
		return w.object(x)
	case []any:
		return w.items('[', ']', len(x), func(i int) error { return w.value(x[i]) })
	default:
		return w.marshal(v)
	}
	return nil
}

func (w *jsonWriter) object(m map[string]any) error {
	start := len(w.keys)
	for k := range m {
		w.keys = append(w.keys, k)
	}
	// Nested objects append past this map's keys; keys keeps seeing its own even when
	// they grow w.keys into a new array.
	keys := w.keys[start:]
	slices.Sort(keys)
	err := w.items('{', '}', len(keys), func(i int) error {
		if err := w.string(keys[i]); err != nil {
			return err
		}
		w.buf = append(w.buf, ':')
		return w.value(m[keys[i]])
	})
	w.keys = w.keys[:start]
	return err
}

// items writes n items, each by item, between open and close, separated by commas.
func (w *jsonWriter) items(open, close byte, n int, item func(i int) error) error {
	w.buf = append(w.buf, open)
	for i := range n {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		if err := item(i); err != nil {
			return err
		}
	}
	w.buf = append(w.buf, close)
	return nil
}

// string writes s quoted; one with a byte encoding/json would escape, or any non-ASCII
// byte, is written by encoding/json.
func (w *jsonWriter) string(s string) error {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x80 || b == '"' || b == '\\' || b == '<' || b == '>' || b == '&' {
			return w.marshal(s)
		}
	}
	w.buf = append(w.buf, '"')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '"')
	return nil
}

func (w *jsonWriter) marshal(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.buf = append(w.buf, data...)
	return nil
}
