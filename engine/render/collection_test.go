package render_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/render"
)

// forEachGraph repeats a ConfigMap per name of the App's host, read as a comma-separated
// list; a summary and status read the collection's objects, and it is ready when every
// object has data.
const forEachGraph = `  resources:
  - id: files
    forEach: '${ schema.spec.?host.orValue("") == "" ? [] : schema.spec.host.split(",") }'
    maxItems: 3
    readyWhen: ['${ files.all(f, has(f.data)) }']
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}-${each.lowerAscii()}"}
      data: {value: "${each}"}
  - id: summary
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}-summary"}
      data: {names: "${files.map(f, f.metadata.name).join(',')}"}
  status:
    ready: ${ ready.files }
    url: ${ string(size(files)) }
`

func observedFiles(names ...string) map[string]any {
	items := make([]any, 0, len(names))
	for _, n := range names {
		items = append(items, map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": n, "namespace": "team"}, "data": map[string]any{"value": "x"}})
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
}

func objectNames(objs []map[string]any) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o["metadata"].(map[string]any)["name"].(string))
	}
	return out
}

func TestRenderCollection(t *testing.T) {
	g := load(t, forEachGraph)
	tests := []struct {
		name     string
		host     string
		observed map[string]map[string]any
		files    []string
		summary  render.State
		reason   string
	}{
		{name: "no items", summary: render.Rendered},
		{name: "items in list order, nothing observed", host: "A,B,C", files: []string{"web-a", "web-b", "web-c"},
			summary: render.Waiting, reason: "waiting for files (ConfigMap web-a) to be observed"},
		{name: "one item not observed yet", host: "A,B,C", observed: map[string]map[string]any{"files": observedFiles("web-c", "web-a")},
			files: []string{"web-a", "web-b", "web-c"}, summary: render.Waiting, reason: "waiting for files (ConfigMap web-b) to be observed"},
		{name: "every item observed", host: "A,B,C", observed: map[string]map[string]any{"files": observedFiles("web-c", "web-b", "web-a", "web-gone")},
			files: []string{"web-a", "web-b", "web-c"}, summary: render.Rendered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := map[string]any{"image": "i"}
			if tt.host != "" {
				spec["host"] = tt.host
			}
			res, err := render.Render(context.Background(), g, render.Input{Instance: app(spec), Observed: tt.observed, Validate: true})
			require.NoError(t, err)
			files, _ := res.Node("files")
			require.Equal(t, render.Rendered, files.State, files.Reason)
			assert.Nil(t, files.Object)
			assert.Equal(t, tt.files, objectNames(files.Objects()))
			if len(tt.files) > 0 {
				assert.Equal(t, map[string]any{"value": "A"}, files.Items[0]["data"])
				assert.Equal(t, "team", files.Items[0]["metadata"].(map[string]any)["namespace"])
			}
			summary, _ := res.Node("summary")
			assert.Equal(t, tt.summary, summary.State)
			assert.Equal(t, tt.reason, summary.Reason)
		})
	}
}

// TestRenderCollectionReads: the summary reads the observed objects in item order.
func TestRenderCollectionReads(t *testing.T) {
	g := load(t, forEachGraph)
	in := render.Input{Instance: app(map[string]any{"image": "i", "host": "b,a"}),
		Observed: map[string]map[string]any{"files": observedFiles("web-a", "web-b")}}
	res, err := render.Render(context.Background(), g, in)
	require.NoError(t, err)
	summary, _ := res.Node("summary")
	require.Equal(t, render.Rendered, summary.State, summary.Reason)
	assert.Equal(t, map[string]any{"names": "web-b,web-a"}, summary.Object["data"])
}

func TestRenderCollectionErrors(t *testing.T) {
	g := load(t, forEachGraph)
	tests := []struct {
		name string
		host string
		want string
	}{
		{name: "over the limit", host: "a,b,c,d",
			want: `g.yaml:8:17: resource files, field forEach: ${ schema.spec.?host.orValue("") == "" ? [] : schema.spec.host.split(",") }: 4 items, more than the collection's limit of 3: yield fewer, or raise the resource's maxItems`},
		{name: "two items, one name", host: "a,A",
			want: `resource files: forEach items 0 and 1 both render the name "web-a": metadata.name must tell the items apart`},
		{name: "an item fails", host: "a b",
			want: "(forEach item 0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := render.Render(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "i", "host": tt.host}), Validate: true})
			require.NoError(t, err)
			files, _ := res.Node("files")
			assert.Equal(t, render.Error, files.State)
			assert.Contains(t, files.Reason, tt.want)
			assert.Empty(t, files.Objects())
			summary, _ := res.Node("summary")
			assert.Equal(t, render.Error, summary.State, "what reads a failed collection fails")
		})
	}
}

// TestStatusCollection: ready.<id> is a bool over every item; status reads the list.
func TestStatusCollection(t *testing.T) {
	g := load(t, forEachGraph)
	inst := app(map[string]any{"image": "i", "host": "b,a"})
	tests := []struct {
		name     string
		inst     map[string]any
		observed map[string]map[string]any
		ready    bool
		status   map[string]any
	}{
		{name: "none observed", inst: inst, ready: false, status: map[string]any{"ready": false}},
		{name: "one of two observed", inst: inst, observed: map[string]map[string]any{"files": observedFiles("web-a")},
			ready: false, status: map[string]any{"ready": false}},
		{name: "both observed", inst: inst, observed: map[string]map[string]any{"files": observedFiles("web-a", "web-b")},
			ready: true, status: map[string]any{"ready": true, "url": "2"}},
		{name: "no items", inst: app(map[string]any{"image": "i"}), ready: true, status: map[string]any{"ready": true, "url": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := render.Input{Instance: tt.inst, Observed: tt.observed}
			res, err := render.Render(context.Background(), g, in)
			require.NoError(t, err)
			rep, err := render.Status(context.Background(), g, in, res, render.StatusOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.ready, rep.Ready["files"])
			assert.Equal(t, tt.status, rep.Status)
			assert.Empty(t, rep.Errors)
		})
	}

	// readyWhen holds over the list: an object without data keeps the collection not ready.
	obs := observedFiles("web-a", "web-b")
	delete(obs["items"].([]any)[1].(map[string]any), "data")
	in := render.Input{Instance: inst, Observed: map[string]map[string]any{"files": obs}}
	res, err := render.Render(context.Background(), g, in)
	require.NoError(t, err)
	rep, err := render.Status(context.Background(), g, in, res, render.StatusOptions{})
	require.NoError(t, err)
	assert.False(t, rep.Ready["files"])
}
