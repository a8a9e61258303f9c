package templates_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
	"github.com/loom-mcp/loom/templates"
)

// load types the embedded graph with the embedded CRD, as the operator does.
func load(t *testing.T) *graph.Graph {
	t.Helper()
	g, err := templates.LoadMCPServer()
	require.NoError(t, err)
	return g
}

func TestMCPServerLoads(t *testing.T) {
	g := load(t)
	require.Equal(t, "MCPServer", g.Instance.GVK.Kind)
	var ids []string
	for _, n := range g.Nodes {
		ids = append(ids, n.ID)
	}
	require.Equal(t, []string{"serviceAccount", "pullSecret", "policy",
		"gatewayCertificate", "traefikCertificate", "mtlsCA", "mtlsNetworkPolicy",
		"deployment", "canary", "service", "ingress",
		"tlsOption", "spiffeMiddleware", "serversTransport", "ingressRoute"}, ids)
}

// The MCPServers in examples/ render with the operator's default configuration, every
// object valid and no check failing. (The grant and the session there are read by them.)
func TestExamplesRender(t *testing.T) {
	g := load(t)
	paths, err := filepath.Glob("../examples/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		js, err := yaml.YAMLToJSON(data)
		require.NoError(t, err)
		var obj map[string]any // integers as int64, as the API server sends them
		require.NoError(t, utiljson.Unmarshal(js, &obj))
		if obj["kind"] != "MCPServer" {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			obj["metadata"].(map[string]any)["namespace"] = "examples"
			require.NoError(t, g.Schemas.Default(obj))
			require.NoError(t, g.Schemas.Validate(obj))
			res, err := render.Render(context.Background(), g, render.Input{Instance: obj, Validate: true})
			require.NoError(t, err)
			require.Empty(t, res.Errors)
			for _, n := range res.Nodes {
				require.NotEqual(t, render.Error, n.State, "%s: %s", n.ID, n.Reason)
			}
		})
	}
}

// The mTLS objects are typed by the embedded cert-manager and Traefik CRDs: a field those
// kinds do not have, or a value of the wrong type, is a load error naming the resource.
func TestMCPServerMTLSTyped(t *testing.T) {
	set, err := templates.MCPServerSchemas()
	require.NoError(t, err)
	for _, c := range []struct{ old, new, want string }{
		{"        secretName: ${ schema.metadata.name }-gateway-mtls\n", "        secretNam: ${ schema.metadata.name }-gateway-mtls\n", "resource gatewayCertificate, field spec.secretNam"},
		{"        entryPoints: [websecure]\n", "        entryPoints: websecure\n", "resource ingressRoute, field spec.entryPoints"},
		{"        minVersion: VersionTLS12\n", "        minVersion: 12\n", "resource tlsOption, field spec.minVersion"},
	} {
		t.Run(c.want, func(t *testing.T) {
			src := string(templates.MCPServer)
			require.Equal(t, 1, strings.Count(src, c.old), "the graph changed: update this test")
			_, err := graph.Load(templates.MCPServerFile, []byte(strings.Replace(src, c.old, c.new, 1)), graph.WithSchemas(set))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// ThirdPartyCRDs are the kinds the mTLS templates render, at the paths SOURCES.md lists.
func TestThirdPartyCRDs(t *testing.T) {
	files, err := templates.ThirdPartyCRDs()
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		require.NotEmpty(t, f.Data)
	}
	require.Equal(t, []string{
		"templates/crds/cert-manager.io_certificates.yaml",
		"templates/crds/traefik.io_ingressroutes.yaml",
		"templates/crds/traefik.io_middlewares.yaml",
		"templates/crds/traefik.io_serverstransports.yaml",
		"templates/crds/traefik.io_tlsoptions.yaml",
		"templates/crds/traefik.io_tlsstores.yaml",
	}, names)
	sources, err := os.ReadFile("crds/SOURCES.md")
	require.NoError(t, err)
	for _, n := range names {
		assert.Contains(t, string(sources), "| "+strings.TrimPrefix(n, "templates/crds/")+" |")
	}
}
