package schema

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

func withGadget(t *testing.T) *Set {
	t.Helper()
	s, err := Builtin()
	require.NoError(t, err)
	data, err := os.ReadFile("../../testdata/strict/gadget-crd.yaml")
	require.NoError(t, err)
	_, err = s.AddCRD(data, "../../testdata/strict/gadget-crd.yaml")
	require.NoError(t, err)
	return s
}

func yamlObject(t *testing.T, doc string) map[string]any {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(doc))
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, utiljson.Unmarshal(js, &obj)) // integers as int64, as the API server decodes them
	return obj
}

// admitErrors is every error Admit reports, as "field: detail".
func admitErrors(t *testing.T, s *Set, doc string) []string {
	t.Helper()
	obj := yamlObject(t, doc)
	before := yamlObject(t, doc)
	err := s.Admit(context.Background(), obj)
	assert.Equal(t, before, obj, "Admit leaves the object as it was")
	if err == nil {
		return nil
	}
	var out []string
	for _, e := range err.Errs {
		out = append(out, e.Field+": "+e.ErrorBody())
	}
	return out
}

const gadget = "apiVersion: test.loom.dev/v1\nkind: Gadget\nmetadata: {name: g, namespace: ns}\n"

func TestAdmitCustomResource(t *testing.T) {
	s := withGadget(t)
	cases := []struct {
		name string
		doc  string
		want []string // substrings, one per expected error, in order
	}{
		{name: "valid", doc: gadget + "spec: {image: ghcr.io/a/b:1, mode: fast, port: 80, min: 1, max: 2, owner: a@example.com, env: [{name: A}]}\nstatus: {phase: Ready, url: 'https://x'}"},
		{name: "pattern", doc: gadget + "spec: {image: 'Not An Image'}", want: []string{"spec.image: Invalid value: \"Not An Image\": spec.image in body should match '^[a-z0-9./:-]+$'"}},
		{name: "enum", doc: gadget + "spec: {image: i, mode: slow}", want: []string{`spec.mode: Unsupported value: "slow": supported values: "fast", "safe"`, "<nil>: Invalid value: \"null\": some validation rules were not checked"}},
		{name: "bounds", doc: gadget + "spec: {image: i, port: 0}", want: []string{"spec.port: Invalid value: 0: spec.port in body should be greater than or equal to 1"}},
		{name: "max length", doc: gadget + "spec: {image: " + strings.Repeat("a", 65) + "}", want: []string{"spec.image: Too long: may not be more than 64 bytes", "<nil>: Invalid value: \"null\": some validation rules were not checked"}},
		{name: "format", doc: gadget + "spec: {image: i, owner: nobody}", want: []string{`spec.owner: Invalid value: "nobody": spec.owner in body must be of type email`, "some validation rules were not checked"}},
		{name: "required", doc: gadget + "spec: {mode: fast}", want: []string{"spec.image: Required value", "some validation rules were not checked"}},
		{name: "type", doc: gadget + "spec: {image: i, port: three}", want: []string{"spec.port: Invalid value: \"string\"", "some validation rules were not checked"}},
		{name: "CEL rules", doc: "apiVersion: test.loom.dev/v1\nkind: Gadget\nmetadata: {name: a-name-longer-than-twenty, namespace: ns}\nspec: {image: i, min: 3, max: 2}",
			want: []string{"<nil>: Invalid value: \"object\": metadata.name must be at most 20 characters", "spec.min: Invalid value: \"object\": min must not exceed max"}},
		{name: "duplicate list map key", doc: gadget + "spec: {image: i, env: [{name: A}, {name: A}]}", want: []string{"spec.env[1]: Duplicate value"}},
		{name: "name", doc: "apiVersion: test.loom.dev/v1\nkind: Gadget\nmetadata: {name: Upper, namespace: ns}\nspec: {image: i}", want: []string{"metadata.name: Invalid value: \"Upper\": a lowercase RFC 1123 subdomain"}},
		{name: "status", doc: gadget + "spec: {image: i}\nstatus: {phase: Done, url: ftp://x}", want: []string{"status.phase: Unsupported value", "status.url: Invalid value", "<nil>: Invalid value: \"null\": some validation rules were not checked"}},
		{name: "unknown fields, every one", doc: gadget + "metadata: {name: g, namespace: ns, colour: red}\nspec: {image: i, size: 3, env: [{name: A, secret: true}]}\nextra: 1",
			want: []string{"extra: Forbidden: unknown field", "metadata.colour: Forbidden: unknown field", "spec.env[0].secret: Forbidden: unknown field", "spec.size: Forbidden: unknown field"}},
		{name: "every violation at once", doc: gadget + "spec: {image: 'A B', mode: slow, port: 70000, owner: x}",
			want: []string{"spec.image: Invalid value: \"A B\"", "spec.mode: Unsupported value", "spec.owner: Invalid value", "spec.port: Invalid value: 70000", "some validation rules were not checked"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := admitErrors(t, s, tc.doc)
			require.Len(t, got, len(tc.want), "%q", got)
			for i, w := range tc.want {
				assert.Contains(t, got[i], w)
			}
		})
	}
}

func TestAdmitBuiltin(t *testing.T) {
	s, err := Builtin()
	require.NoError(t, err)
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "valid", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec: {ports: [{port: 80, targetPort: http}]}"},
		{name: "required field", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec: {ports: [{name: http}]}", want: []string{"spec.ports[0].port: Required value"}},
		{name: "service name is a DNS-1035 label", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: 1web, namespace: ns}", want: []string{"metadata.name: Invalid value: \"1web\": a DNS-1035 label"}},
		{name: "label value", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns, labels: {app: 'a b'}}", want: []string{"metadata.labels: Invalid value: \"a b\""}},
		{name: "format byte", doc: "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\ndata: {key: 'not base64!'}", want: []string{"data.key: Invalid value"}},
		{name: "structure first", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: C, namespace: ns}\ndata: {a: 1}\nbogus: true", want: []string{"bogus: Invalid value: field not declared in schema", "data.a: Invalid value"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := admitErrors(t, s, tc.doc)
			require.Len(t, got, len(tc.want), "%q", got)
			for i, w := range tc.want {
				assert.Contains(t, got[i], w)
			}
		})
	}
}

func TestAdmitStatus(t *testing.T) {
	s := withGadget(t)
	inst := yamlObject(t, gadget+"spec: {image: i}")
	assert.Nil(t, s.AdmitStatus(context.Background(), inst, map[string]any{"phase": "Ready", "url": "https://x"}))
	err := s.AdmitStatus(context.Background(), inst, map[string]any{"phase": "Done", "url": "https://x"})
	require.NotNil(t, err)
	require.Len(t, err.Errs, 1, "the violations in status only: %v", err)
	assert.Equal(t, "status.phase", err.Errs[0].Field)
	assert.NotContains(t, inst, "status", "the instance is left as it was")
}
