package render_test

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	celvalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/config/crd"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
	"github.com/loom-mcp/loom/templates"
)

// FuzzRenderMCPServer renders MCPServers that the CRD admits through the default graph, as
// the operator would on a reconcile: no input may make Render or Status panic, run past
// its deadline, or return a result that lacks a node. The fuzzer's bytes choose a spec by
// walking the CRD's schema (which fields, which enum values, which strings and numbers);
// specs the API server would refuse (its OpenAPI and x-kubernetes-validations checks) are
// skipped, so every input that runs is one a user could have applied.
//
//	FUZZTIME=1h make fuzz-render
func FuzzRenderMCPServer(f *testing.F) {
	fx := newMCPServerFuzz(f)
	for _, seed := range [][]byte{
		nil,
		{1, 1, 1, 1, 1, 1, 1, 1},
		[]byte("\x02\x05\x07\x01\x00\x03\x09\x04\x02\x01\x08\x06\x01\x02\x03\x04"),
		[]byte(strings.Repeat("\xff", 64)),
		[]byte(strings.Repeat("\x01\x02", 128)),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, ok := fx.instance(data)
		if !ok {
			t.Skip("the CRD refuses this spec")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		in := render.Input{Instance: obj, Validate: true}
		res, err := render.Render(ctx, fx.graph, in)
		if err == nil {
			_, err = render.Status(ctx, fx.graph, in, res, render.StatusOptions{Now: time.Unix(0, 0)})
		}
		if ctx.Err() != nil {
			t.Fatalf("render ran past its deadline (%v) for\n%s", ctx.Err(), dump(obj))
		}
		if err != nil {
			return // a bad config or status tree is an error, not a crash
		}
		require.Len(t, res.Nodes, len(fx.graph.Nodes), "every node has a state")
		for _, n := range res.Nodes {
			if (n.State == render.Rendered) != (n.Object != nil) {
				t.Fatalf("node %s is %s with object %v", n.ID, n.State, n.Object)
			}
		}
	})
}

// mcpServerFuzz holds what every input shares: the graph, and the CRD's validators.
type mcpServerFuzz struct {
	graph   *graph.Graph
	spec    *apiextensions.JSONSchemaProps
	openapi validation.SchemaValidator
	cel     *celvalidation.Validator
	schema  *structuralschema.Structural
}

func newMCPServerFuzz(t testing.TB) *mcpServerFuzz {
	g, err := templates.LoadMCPServer()
	require.NoError(t, err)

	var c apiextensionsv1.CustomResourceDefinition
	require.NoError(t, yaml.Unmarshal(crd.MCPServer, &c))
	var root apiextensions.JSONSchemaProps
	require.NoError(t, apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(c.Spec.Versions[0].Schema.OpenAPIV3Schema, &root, nil))
	openapi, _, err := validation.NewSchemaValidator(&root)
	require.NoError(t, err)
	ss, err := structuralschema.NewStructural(&root)
	require.NoError(t, err)
	spec := root.Properties["spec"]
	return &mcpServerFuzz{
		graph:   g,
		spec:    &spec,
		openapi: openapi,
		cel:     celvalidation.NewValidator(ss, true, celconfig.PerCallLimit),
		schema:  ss,
	}
}

// instance builds an MCPServer from data and reports whether the API server would admit it
// (after defaulting, as it stores it).
func (fx *mcpServerFuzz) instance(data []byte) (map[string]any, bool) {
	gen := &generator{data: data}
	obj := map[string]any{
		"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
		"metadata": map[string]any{"name": gen.pick(names), "namespace": "team", "generation": int64(1), "uid": "0f1e2d3c"},
		"spec":     gen.value(fx.spec, 0),
	}
	if err := fx.graph.Schemas.Default(obj); err != nil {
		return nil, false
	}
	if errs := validation.ValidateCustomResource(nil, obj, fx.openapi); len(errs) > 0 {
		return nil, false
	}
	errs, _ := fx.cel.Validate(context.Background(), field.NewPath(""), fx.schema, obj, nil, celconfig.RuntimeCELCostBudget)
	if len(errs) > 0 {
		return nil, false
	}
	return obj, fx.graph.Schemas.Validate(obj) == nil
}

// generator turns bytes into a value of a schema: each choice consumes a byte (zero once
// they run out), so the fuzzer's mutations move between nearby specs.
type generator struct {
	data []byte
	pos  int
}

func (g *generator) byte() byte {
	if g.pos >= len(g.data) {
		return 0
	}
	b := g.data[g.pos]
	g.pos++
	return b
}

func (g *generator) pick(list []string) string { return list[int(g.byte())%len(list)] }

// Strings the graph treats specially, and some it should survive.
var (
	names   = []string{"web", "a", "mcp-server-1", strings.Repeat("x", 63), "a-b"}
	strs    = []string{"", "x", "web", "100m", "0.5", "2", "128Mi", "1Gi", "API_KEY", "k", "tool_1", "read-file", "nginx", "v1.2.3", "10.0.0.1", "team/secret", "25%", "100%", "http", "ghcr.io/acme/mcp:1.2.3", "registry.local:5000/img@sha256:" + strings.Repeat("a", 64), "/mcp", "/", "example.com", "*.example.com", "api-key", "oauth", "Bearer", "${ schema }", "$${x}", "a b", "100m", "1Gi", "https://issuer.example.com", "spiffe://td", "é", strings.Repeat("y", 300)}
	ints    = []int64{0, 1, 2, 3, -1, 80, 443, 8080, 65535, 65536, 1 << 31, 1<<31 - 1, 100, 1000}
	strKeys = []string{"a", "app", "x-key", "example.com/k", "LOG", "PATH"}
)

func (g *generator) value(s *apiextensions.JSONSchemaProps, depth int) any {
	if len(s.Enum) > 0 {
		return s.Enum[int(g.byte())%len(s.Enum)]
	}
	if s.XIntOrString {
		if g.byte()%2 == 0 {
			return g.integer(s)
		}
		return g.string(s)
	}
	switch s.Type {
	case "object":
		return g.object(s, depth)
	case "array":
		n := int(g.byte() % 4)
		out := make([]any, 0, n)
		for i := 0; i < n && s.Items != nil && s.Items.Schema != nil; i++ {
			out = append(out, g.value(s.Items.Schema, depth+1))
		}
		return out
	case "string":
		return g.string(s)
	case "integer":
		return g.integer(s)
	case "number":
		return float64(ints[int(g.byte())%len(ints)]) / 2
	case "boolean":
		return g.byte()%2 == 1
	}
	return nil
}

// string picks a string the schema's pattern and length admit, starting from the byte's
// choice, or a few raw bytes of the input; the first choice when none fits.
func (g *generator) string(s *apiextensions.JSONSchemaProps) string {
	b := g.byte()
	if b >= 0xf0 {
		var sb strings.Builder
		for i := 0; i < int(b-0xf0); i++ {
			sb.WriteByte(g.byte())
		}
		return sb.String()
	}
	re := patterns[s.Pattern]
	if re == nil && s.Pattern != "" {
		re = regexp.MustCompile(s.Pattern)
		patterns[s.Pattern] = re
	}
	for i := range strs {
		c := strs[(int(b)+i)%len(strs)]
		if (re == nil || re.MatchString(c)) && (s.MaxLength == nil || int64(len(c)) <= *s.MaxLength) && (s.MinLength == nil || int64(len(c)) >= *s.MinLength) {
			return c
		}
	}
	return strs[int(b)%len(strs)]
}

// patterns caches the CRD's compiled patterns (the fuzz workers are processes, one
// goroutine each).
var patterns = map[string]*regexp.Regexp{}

// integer picks an integer within the schema's bounds, starting from the byte's choice.
func (g *generator) integer(s *apiextensions.JSONSchemaProps) int64 {
	b := int(g.byte())
	for i := range ints {
		v := ints[(b+i)%len(ints)]
		if (s.Minimum == nil || float64(v) >= *s.Minimum) && (s.Maximum == nil || float64(v) <= *s.Maximum) {
			return v
		}
	}
	return ints[b%len(ints)]
}

func (g *generator) object(s *apiextensions.JSONSchemaProps, depth int) map[string]any {
	out := map[string]any{}
	if depth > 8 {
		return out
	}
	if ap := s.AdditionalProperties; ap != nil && ap.Schema != nil {
		for i, n := 0, int(g.byte()%3); i < n; i++ {
			out[g.pick(strKeys)] = g.value(ap.Schema, depth+1)
		}
		return out
	}
	keys := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	for _, k := range keys {
		if !required[k] && g.byte()%3 == 0 {
			continue
		}
		p := s.Properties[k]
		out[k] = g.value(&p, depth+1)
	}
	return out
}

func dump(obj map[string]any) string {
	out, _ := yaml.Marshal(obj)
	return string(out)
}
