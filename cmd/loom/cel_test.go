package main

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/parse"
)

// update rewrites the generated files the tests keep in sync (docs/cel.md, config/schema).
var update = flag.Bool("update", false, "rewrite the generated files the tests compare with")

// docs/cel.md is what `loom cel` prints.
func TestCELReference(t *testing.T) {
	assertGenerated(t, "../../docs/cel.md", "cel")
}

// Every built-in variable is in the reference.
func TestCELVariablesCoverBuiltins(t *testing.T) {
	documented := map[string]bool{}
	for _, v := range celVariables {
		documented[v.Name] = true
	}
	for _, b := range parse.Builtins {
		assert.True(t, documented[b] || documented[b+".<name>"] || documented[b+".<id>"], "%s is not in celVariables", b)
	}
}

// assertGenerated runs loom with args and compares what it prints with file, or, with
// -update, writes it there.
func assertGenerated(t *testing.T, file string, args ...string) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs(args)
	require.NoError(t, cmd.Execute())
	if *update {
		require.NoError(t, os.WriteFile(file, out.Bytes(), 0o644))
	}
	want, err := os.ReadFile(file)
	require.NoError(t, err, "go test ./cmd/loom -run %s -update writes it", t.Name())
	assert.Equal(t, string(want), out.String(), "%s is not what loom %v prints: go test ./cmd/loom -run %s -update", file, args, t.Name())
}
