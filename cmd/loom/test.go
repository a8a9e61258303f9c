package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/loom-mcp/loom/engine/cases"
)

// errCasesFailed makes the exit status non-zero once the failures are printed.
var errCasesFailed = errors.New("some cases failed")

func newTestCmd() *cobra.Command {
	var (
		update bool
		run    string
		junit  string
	)
	cmd := &cobra.Command{
		Use:   "test DIR [DIR...]",
		Short: "Run a graph's golden cases offline, with the code the controller runs",
		Long: `Run the golden cases of one or more suite directories. Each case renders an instance
through the graph, as the controller would on one reconcile, and compares the result with
the case's expected.yaml; no cluster is needed.

Layout:

` + cases.Layout + `

Every rendered object is checked as the API server would check it (its kind's OpenAPI
schema; for a CRD kind also its patterns, enums, bounds, formats and x-kubernetes-validations
rules), and so are the objects and status of expected.yaml: a golden document cannot hold
what a cluster would refuse.

A case fails when its document differs from expected.yaml (the diff names each object by
kind and name, and each hunk by the field path of its first change), when expected.yaml
holds what the API server would refuse, when assert.yaml does not hold, when an input file
is wrong, or, for a case with expected-error.txt, when it does not fail with that error.
-update writes expected.yaml for every case whose document changed (and for cases that have
none) and names the files: review them before committing. --junit FILE also writes the
results as JUnit XML, one testsuite per directory. The last line is "N passed, N failed";
the exit status is non-zero when any case failed.`,
		Example: `  loom test testdata/engine
  loom test testdata/engine --run 'observed$' -update
  loom test testdata/mcpserver --junit report.xml`,
		// Flags are parsed in RunE so that go test's spelling (-update, -run) works too.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			flags := cmd.Flags()
			if err := flags.Parse(goStyleFlags(flags, args)); err != nil {
				return fmt.Errorf("%w\nsee loom test --help", err)
			}
			if help, _ := flags.GetBool("help"); help {
				return cmd.Help()
			}
			args = flags.Args()
			if len(args) == 0 {
				return errors.New("name at least one suite directory; see loom test --help")
			}
			opts := cases.Options{Update: update}
			if run != "" {
				re, err := regexp.Compile(run)
				if err != nil {
					return fmt.Errorf("--run: %w", err)
				}
				opts.Match = re
			}
			return runSuites(cmd, args, opts, junit)
		},
	}
	cmd.Flags().BoolVar(&update, "update", false, "rewrite expected.yaml with what each case produces")
	cmd.Flags().StringVar(&run, "run", "", "run only the cases whose names match this regular expression")
	cmd.Flags().StringVar(&junit, "junit", "", "also write the results to this file as JUnit XML")
	return cmd
}

// runSuites runs the cases of every suite directory in dirs, prints each result and the
// count, writes the JUnit file when junit names one, and fails when any case failed.
func runSuites(cmd *cobra.Command, dirs []string, opts cases.Options, junit string) error {
	out := cmd.OutOrStdout()
	passed, failed := 0, 0
	var suites []junitSuite
	for _, dir := range dirs {
		start := time.Now()
		results, err := cases.Run(cmd.Context(), dir, opts)
		suites = append(suites, junitSuiteOf(dir, results, err, time.Since(start)))
		if err != nil {
			cases.WriteSuiteError(out, dir, err)
			failed++
			continue
		}
		for _, r := range results {
			cases.WriteResult(out, r)
			if r.Failed() {
				failed++
			} else {
				passed++
			}
		}
	}
	fmt.Fprintf(out, "%d passed, %d failed\n", passed, failed)
	if junit != "" {
		if err := writeJUnit(junit, suites); err != nil {
			return err
		}
	}
	if failed > 0 {
		return errCasesFailed
	}
	return nil
}

// goStyleFlags spells -name and -name=value as --name and --name=value for every long flag
// of flags, up to a "--".
func goStyleFlags(flags *pflag.FlagSet, args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if len(name) > 1 && flags.Lookup(name) != nil {
			out[i] = "-" + a
		}
	}
	return out
}
