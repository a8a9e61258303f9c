package cases

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Report is why the case failed, as `loom test` prints it: its error, the diff against
// expected.yaml, the assertions of assert.yaml that do not hold, what the API server would
// refuse, and the files -update rewrote. It is "" for a case that passed and updated nothing.
func (r Result) Report() string {
	var b strings.Builder
	if r.Err != nil {
		fmt.Fprintln(&b, r.Err.Error())
	}
	if r.Diff != "" {
		fmt.Fprint(&b, strings.TrimSuffix(r.Diff, "\n"), "\n")
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(&b, "%s does not hold:\n", filepath.Join(r.Dir, "assert.yaml"))
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	for _, f := range r.Refused {
		fmt.Fprintf(&b, "%s\n", f)
	}
	for _, f := range r.Updated {
		fmt.Fprintf(&b, "updated %s\n", f)
	}
	return b.String()
}

// WriteResult writes the case's verdict line ("ok" or "FAIL" and its directory) and its
// Report indented below it.
func WriteResult(w io.Writer, r Result) {
	verdict := "ok  "
	if r.Failed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s %s\n", verdict, r.Dir)
	fmt.Fprint(w, indent(r.Report(), "    "))
}

// WriteSuiteError writes that the suite in dir could not run, and why, indented below.
func WriteSuiteError(w io.Writer, dir string, err error) {
	fmt.Fprintf(w, "FAIL %s\n%s\n", dir, indent(err.Error(), "    "))
}
