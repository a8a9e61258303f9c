package input_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/input"
)

func TestDocuments(t *testing.T) {
	stream := "# a comment-only document\n---\na: 1\nb: {c: on}\n---\n---\n- x\n---\nd:\n  e: 1\n  f: [ {g: 1, g: 2} ]\n  e: 2\n"
	docs, err := input.Documents([]byte(stream))
	require.NoError(t, err)
	require.Len(t, docs, 3, "empty documents are skipped")
	assert.Equal(t, map[string]any{"a": int64(1), "b": map[string]any{"c": true}}, docs[0].Value, "YAML 1.1 scalars, as kubectl reads them; int64 integers")
	assert.Equal(t, 3, docs[0].Line)
	assert.Equal(t, []any{"x"}, docs[1].Value)
	assert.Equal(t, 2, docs[2].Index)
	assert.Equal(t, map[string]any{"d": map[string]any{"e": int64(2), "f": []any{map[string]any{"g": int64(2)}}}}, docs[2].Value)
	var dups []string
	for _, d := range docs[2].Duplicates {
		dups = append(dups, d.String())
	}
	assert.Equal(t, []string{
		"d.f[0].g: duplicate field (line 11; first given on line 11)",
		"d.e: duplicate field (line 12; first given on line 10)",
	}, dups)

	docs, err = input.Documents([]byte(`{"a": 1, "a": 2}`))
	require.NoError(t, err)
	require.Len(t, docs, 1, "JSON is one document")
	require.Len(t, docs[0].Duplicates, 1)

	_, err = input.Documents([]byte("a: 1\n---\nb: [\n"))
	require.ErrorContains(t, err, "document 2:")

	_, err = input.Documents([]byte(strings.Repeat("a: 1\n---\n", 1001)))
	require.ErrorContains(t, err, "more than 1000 documents")
}

func TestReadSource(t *testing.T) {
	data, err := input.ReadSource(input.Stdin, strings.NewReader("a: 1\n"))
	require.NoError(t, err)
	assert.Equal(t, "a: 1\n", string(data))
	_, err = input.ReadSource(input.Stdin, bytes.NewReader(make([]byte, input.MaxFileSize+1)))
	require.ErrorContains(t, err, "standard input: larger than 3145728 bytes")
}
