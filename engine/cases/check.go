package cases

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/loom-mcp/loom/engine/input"
)

// expectedError reads dir/expected-error.txt: the lines an error of the case must contain
// (blank lines aside); nil when the case has no such file.
func expectedError(dir string) ([]string, error) {
	path := filepath.Join(dir, "expected-error.txt")
	data, err := input.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if exists(filepath.Join(dir, "expected.yaml")) {
		return nil, fmt.Errorf("%s: a case expects a document (expected.yaml) or an error, not both", path)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: empty; write the text the error must contain, one piece a line", path)
	}
	return lines, nil
}

// storedReason reports whether dir/stored.txt says why the case's instance is one the
// API server stored under an older CRD, and so is not admitted again.
func storedReason(dir string) (bool, error) {
	path := filepath.Join(dir, "stored.txt")
	data, err := input.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(string(data)) == "" {
		return false, fmt.Errorf("%s: empty; say why the instance is one the API server stored and would not admit now", path)
	}
	return true, nil
}

// checkError judges a case that expects an error: the case's error (a refused instance, a
// render that failed) or, when it produced a document, its nodes in Error and its errors,
// must contain every line of want. It returns nil when they do.
func checkError(want []string, doc any, err error) error {
	var got string
	if err != nil {
		got = err.Error()
	} else {
		got = documentErrors(doc)
		if got == "" {
			return fmt.Errorf("expected-error.txt: the case rendered with no error; expected one containing %q", want)
		}
	}
	var missing []string
	for _, w := range want {
		if !strings.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("expected-error.txt: the error does not contain %q; it is:\n%s", missing, got)
	}
	return nil
}

// documentErrors is the reasons of the nodes in Error and the errors of a document.
func documentErrors(doc any) string {
	m, _ := doc.(map[string]any)
	var out []string
	nodes, _ := m["nodes"].(map[string]any)
	for _, id := range slices.Sorted(maps.Keys(nodes)) {
		if s, _ := nodes[id].(string); strings.HasPrefix(s, "Error: ") {
			out = append(out, id+": "+s)
		}
	}
	errs, _ := m["errors"].([]any)
	for _, e := range errs {
		out = append(out, fmt.Sprint(e))
	}
	return strings.Join(out, "\n")
}

// refused checks a golden document as the API server would: every object, and the status
// against the instance's kind. Each entry names the file, the object and its violations.
func (s *Suite) refused(ctx context.Context, file string, doc any, inst map[string]any) []string {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil // the diff shows it
	}
	var out []string
	objects, _ := m["objects"].([]any)
	for i, o := range objects {
		obj, ok := o.(map[string]any)
		if !ok {
			out = append(out, fmt.Sprintf("%s objects[%d]: expected an object", file, i))
			continue
		}
		if err := s.Graph.Schemas.Admit(ctx, obj); err != nil {
			out = append(out, fmt.Sprintf("%s objects[%d] (%s): %v", file, i, objectName(obj), err))
		}
	}
	if status, ok := m["status"].(map[string]any); ok {
		if msg := s.statusRefused(ctx, inst, status); msg != "" {
			out = append(out, file+" status: "+msg)
		}
	}
	return out
}

// statusRefused says what the API server would refuse in status, written to inst's status;
// "" when nothing.
func (s *Suite) statusRefused(ctx context.Context, inst, status map[string]any) string {
	if inst == nil || len(status) == 0 {
		return ""
	}
	if err := s.Graph.Schemas.AdmitStatus(ctx, inst, status); err != nil {
		return err.Error()
	}
	return ""
}

// objectName is how a failure names an object: "Deployment web".
func objectName(obj map[string]any) string {
	u := unstructured.Unstructured{Object: obj}
	return u.GetKind() + " " + u.GetName()
}
