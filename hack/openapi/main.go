// Command openapi owns generating engine/schema's embedded data: the component schemas of the
// OpenAPI v3 documents that kube-apiserver serves for the built-in groups loom templates,
// merged into one map without descriptions, and the list of kinds those documents serve with
// their scope. `make openapi` runs it on the documents in the k8s.io/kubernetes module.
//
//	go run ./hack/openapi -src $KUBERNETES/api/openapi-spec/v3 -out engine/schema/builtin.json.gz
//
// The output is deterministic: the same documents give the same bytes. It may import only
// the standard library; nothing the loom binary links imports it.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
)

// documents are the group versions whose kinds loom types, by the file name the
// kubernetes repository gives each one's OpenAPI v3 document.
var documents = []string{
	"api__v1_openapi.json",
	"apis__apps__v1_openapi.json",
	"apis__networking.k8s.io__v1_openapi.json",
	"apis__batch__v1_openapi.json",
	"apis__policy__v1_openapi.json",
	"apis__rbac.authorization.k8s.io__v1_openapi.json",
	"apis__autoscaling__v2_openapi.json",
}

// Kind and Data are the output format; engine/schema decodes the same shape.
type Kind struct {
	Group      string `json:"group"`
	Version    string `json:"version"`
	Kind       string `json:"kind"`
	Namespaced bool   `json:"namespaced"`
	// Schema names the kind's entry in Data.Schemas.
	Schema string `json:"schema"`
}

type Data struct {
	Kinds   []Kind         `json:"kinds"`
	Schemas map[string]any `json:"schemas"`
}

type gvk struct{ group, version, kind string }

func main() {
	src := flag.String("src", "", "directory holding the OpenAPI v3 documents (k8s.io/kubernetes/api/openapi-spec/v3)")
	out := flag.String("out", "", "output file (gzip-compressed JSON)")
	flag.Parse()
	if *src == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "openapi:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	schemas := map[string]any{}
	// served maps each kind that some operation of the documents reads or writes to
	// whether one of those operations sits under a namespace.
	served := map[gvk]bool{}
	for _, name := range documents {
		if err := readDocument(filepath.Join(src, name), schemas, served); err != nil {
			return err
		}
	}
	kinds, err := collectKinds(schemas, served)
	if err != nil {
		return err
	}
	data, err := encode(Data{Kinds: kinds, Schemas: schemas})
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Printf("openapi: %d kinds, %d schemas, %d bytes → %s\n", len(kinds), len(schemas), len(data), out)
	return nil
}

func readDocument(path string, schemas map[string]any, served map[gvk]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var doc struct {
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	dec := json.NewDecoder(f)
	// Numbers stay as written (defaults such as 0 must not turn into 0.0 or lose precision).
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Components.Schemas) == 0 {
		return fmt.Errorf("%s: no components.schemas", path)
	}
	for name, s := range doc.Components.Schemas {
		s = stripDescriptions(s)
		if prev, ok := schemas[name]; ok && !reflect.DeepEqual(prev, s) {
			return fmt.Errorf("%s: schema %s differs from the one in an earlier document", path, name)
		}
		schemas[name] = s
	}
	for p, item := range doc.Paths {
		namespaced := strings.Contains(p, "/namespaces/{namespace}/")
		for _, op := range item {
			m, ok := op.(map[string]any)
			if !ok {
				continue
			}
			g, ok := m["x-kubernetes-group-version-kind"].(map[string]any)
			// connect operations (exec, attach, proxy) name option kinds that have no schema.
			if !ok || m["x-kubernetes-action"] == "connect" {
				continue
			}
			k := gvk{str(g["group"]), str(g["version"]), str(g["kind"])}
			served[k] = served[k] || namespaced
		}
	}
	return nil
}

// stripDescriptions drops the description keyword of s and of every schema nested in it;
// a property that happens to be called "description" stays.
func stripDescriptions(s any) any {
	m, ok := s.(map[string]any)
	if !ok {
		return s
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch k {
		case "description":
			continue
		case "properties":
			props, _ := v.(map[string]any)
			stripped := make(map[string]any, len(props))
			for name, p := range props {
				stripped[name] = stripDescriptions(p)
			}
			v = stripped
		case "items", "additionalProperties", "not":
			v = stripDescriptions(v)
		case "allOf", "anyOf", "oneOf":
			list, _ := v.([]any)
			stripped := make([]any, len(list))
			for i, p := range list {
				stripped[i] = stripDescriptions(p)
			}
			v = stripped
		}
		out[k] = v
	}
	return out
}

// collectKinds lists every group-version-kind that a schema declares and an operation
// serves: list kinds, DeleteOptions and the like carry the extension but are no objects
// one creates.
func collectKinds(schemas map[string]any, served map[gvk]bool) ([]Kind, error) {
	var kinds []Kind
	found := map[gvk]string{}
	for name, s := range schemas {
		list, _ := s.(map[string]any)["x-kubernetes-group-version-kind"].([]any)
		for _, g := range list {
			m, _ := g.(map[string]any)
			k := gvk{str(m["group"]), str(m["version"]), str(m["kind"])}
			namespaced, ok := served[k]
			if !ok {
				continue
			}
			if prev, dup := found[k]; dup {
				return nil, fmt.Errorf("%v is declared by both %s and %s", k, prev, name)
			}
			found[k] = name
			kinds = append(kinds, Kind{Group: k.group, Version: k.version, Kind: k.kind, Namespaced: namespaced, Schema: name})
		}
	}
	var missing []string
	for k := range served {
		if _, ok := found[k]; !ok {
			missing = append(missing, fmt.Sprintf("%s/%s %s", k.group, k.version, k.kind))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("served kinds without a schema: %s", strings.Join(missing, ", "))
	}
	if len(kinds) == 0 {
		return nil, errors.New("no kinds found")
	}
	sort.Slice(kinds, func(i, j int) bool {
		a, b := kinds[i], kinds[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Kind < b.Kind
	})
	return kinds, nil
}

// encode writes d as compact JSON (encoding/json sorts map keys) into a gzip stream whose
// header carries no name or time, so equal input gives equal bytes.
func encode(d Data) ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
