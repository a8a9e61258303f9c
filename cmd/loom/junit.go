package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"time"

	"github.com/loom-mcp/loom/engine/cases"
)

// JUnit XML, as CI systems read it: one testsuite per suite directory, one testcase per
// case, a failure element holding what `loom test` prints for a failed case.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Time     string      `xml:"time,attr"`
		Error    *junitText  `xml:"error,omitempty"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string     `xml:"name,attr"`
		Classname string     `xml:"classname,attr"`
		Failure   *junitText `xml:"failure,omitempty"`
	}
	junitText struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
)

// junitSuiteOf is one suite directory's results; err is a suite that could not be loaded.
func junitSuiteOf(dir string, results []cases.Result, err error, took time.Duration) junitSuite {
	s := junitSuite{Name: dir, Time: fmt.Sprintf("%.3f", took.Seconds())}
	if err != nil {
		s.Errors = 1
		s.Error = &junitText{Message: "the suite could not be loaded", Text: err.Error()}
		return s
	}
	for _, r := range results {
		c := junitCase{Name: r.Name, Classname: dir}
		if r.Failed() {
			c.Failure = &junitText{Message: firstLine(r.Report()), Text: r.Report()}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests = len(s.Cases)
	return s
}

func writeJUnit(path string, suites []junitSuite) error {
	doc := junitSuites{Suites: suites}
	for _, s := range suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures + s.Errors
	}
	data, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append([]byte(xml.Header), append(data, '\n')...), 0o644); err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	return nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
