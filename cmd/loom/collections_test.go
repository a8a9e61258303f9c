package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/applied"
)

// loom render prints each object of a collection, as loom applies it, and with the items'
// objects observed the index renders too.
func TestRenderCollection(t *testing.T) {
	const dir = "../../examples/collections/"
	args := []string{"-g", dir + "graph.yaml", "--crd", dir + "crd.yaml", "-f", dir + "three-files/instance.yaml"}
	out, _, err := loomRender(t, "", args...)
	require.ErrorIs(t, err, errRenderIncomplete, "the index waits for the files")
	assert.Contains(t, out, "# index: Waiting (waiting for files (ConfigMap site-readme) to be observed)")
	docs := yamlDocs(t, out)
	require.Len(t, docs, 3)
	for i, name := range []string{"site-readme", "site-robots", "site-empty"} {
		meta := docs[i]["metadata"].(map[string]any)
		assert.Equal(t, name, meta["name"])
		assert.Equal(t, "files", meta["labels"].(map[string]any)[applied.LabelNode])
	}

	out, _, err = loomRender(t, "", append(args, "--observed", dir+"three-files-observed/observed")...)
	require.NoError(t, err)
	docs = yamlDocs(t, out)
	require.Len(t, docs, 4)
	assert.Equal(t, map[string]any{"files": "site-readme,site-robots,site-empty"}, docs[3]["data"])
}

// The collections example's suite passes: no items, three, three observed, duplicate
// names, over the limit.
func TestLoomTestCollectionsSuite(t *testing.T) {
	out, err := loomTest(t, "../../examples/collections")
	require.NoError(t, err, out)
	assert.Contains(t, out, "5 passed, 0 failed")
}
