package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMicro(t *testing.T) {
	path := filepath.Join(t.TempDir(), "micro.txt")
	require.NoError(t, os.WriteFile(path, []byte(`goos: linux
pkg: github.com/loom-mcp/loom/templates
cpu: Intel(R) Xeon(R) Processor
BenchmarkMCPServerLoad-2     	      21	  55015074 ns/op	28820793 B/op	  426238 allocs/op
BenchmarkMCPServerRender/plain.yaml-2         	   15738	     75793 ns/op	   47842 B/op	     547 allocs/op
BenchmarkMCPServerRender/gateway.yaml-2       	    7548	    159493 ns/op	   92470 B/op	    1192 allocs/op
BenchmarkMCPServerGraphHeap-2   	       6	 194575091 ns/op	  10518031 B/graph	47000000 B/op	  690000 allocs/op
PASS
ok  	github.com/loom-mcp/loom/templates	10.293s
`), 0o600))
	got, err := parseMicro(path)
	require.NoError(t, err)
	require.Len(t, got, 4)
	assert.Equal(t, benchLine{Pkg: "templates", Name: "BenchmarkMCPServerRender/plain.yaml", NsPerOp: 75793, BytesPerOp: 47842, AllocsPerOp: 547, Iterations: 15738}, got[1])
	assert.Equal(t, benchLine{Pkg: "templates", Name: "BenchmarkMCPServerGraphHeap", NsPerOp: 194575091, BytesPerOp: 47000000, AllocsPerOp: 690000, Iterations: 6,
		Other: []string{"10518031 B/graph"}}, got[3])
	r := &report{Micro: got}
	assert.Equal(t, 159493*time.Nanosecond, r.microRender(), "the slowest render")
	assert.Contains(t, r.microMarkdown(), "| templates | MCPServerGraphHeap | 194.58 ms | 47000000 | 690000 | 10518031 B/graph |\n")
}

func TestUpsert(t *testing.T) {
	doc := "# title\n"
	doc = upsert(doc, "run N=100", "first\n")
	doc = upsert(doc, "run N=1000", "big\n")
	assert.Equal(t, "# title\n\n<!-- bench:run N=100 -->\nfirst\n<!-- /bench:run N=100 -->\n\n<!-- bench:run N=1000 -->\nbig\n<!-- /bench:run N=1000 -->\n", doc)
	doc = upsert(doc, "run N=100", "second\n")
	assert.Equal(t, "# title\n\n<!-- bench:run N=100 -->\nsecond\n<!-- /bench:run N=100 -->\n\n<!-- bench:run N=1000 -->\nbig\n<!-- /bench:run N=1000 -->\n", doc)
}

func TestWrites(t *testing.T) {
	counts := map[string]int{"patch deployments": 10, "create events": 4, "patch events": 1, "get deployments": 2,
		"patch mcpservers/status": 3, "watch services": 1, "delete configmaps": 1}
	assert.Equal(t, 19, writes(counts, true))
	assert.Equal(t, 14, writes(counts, false))
	assert.Equal(t, 2, verbCount(counts, "get"))
}
