package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/loom-mcp/loom/controllers"
)

// diffFlags are loom diff's flags.
type diffFlags struct {
	fleetFlags
	kubeconfig, context, namespace, output string
	timeout                                time.Duration
}

func newDiffCmd() *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff [NAME] [-n NAMESPACE] [--graph FILE --crd FILE]... [--set KEY=VALUE]... [-o text|json]",
		Short: "Show what a graph would change on every live instance, without changing anything",
		Long: `Diff runs a graph (the embedded MCPServer graph unless --graph names another) against a
live cluster, as the operator would: for every instance of the graph's kind (or those of
--namespace, or the one NAME), it observes what the operator observes, renders, and sends
every object loom would apply as a server-side apply in dry-run mode with loom's field
manager. It prints the objects that would be created, changed (field by field, compared
with the live object), replaced or pruned, the applies the API server would refuse, and the
status fields that would change; then a summary line. It sends only GET, LIST and dry-run
PATCH requests: nothing is written.

The configuration is the operator's: the environment variables the graph declares, then
--set. The kubeconfig is found as kubectl finds it (--kubeconfig, $KUBECONFIG,
~/.kube/config, in-cluster).

Exit status: 0 when nothing would change, 1 when something would, 2 when the diff could
not be made (a bad flag or graph, an unreachable cluster, a request that failed).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.MaximumNArgs(1)(cmd, args); err != nil {
				return &exitError{Code: 2, Err: err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runDiff(cmd, f, args); err != nil {
				if _, ok := err.(*exitError); ok {
					return err
				}
				return &exitError{Code: 2, Err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)")
	fl.StringVar(&f.context, "context", "", "the kubeconfig context (default: its current one)")
	fl.StringVarP(&f.output, "output", "o", "text", "text, or json: one document with the instances that would change and the counts")
	fl.StringVarP(&f.namespace, "namespace", "n", "", "only the instances of this namespace (default: every namespace; with NAME: the context's)")
	f.fleetFlags.bind(fl, "diffed")
	fl.DurationVar(&f.timeout, "request-timeout", time.Minute, "how long one request to the API server may take")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{Code: 2, Err: err} })
	return cmd
}

func runDiff(cmd *cobra.Command, f diffFlags, args []string) error {
	if f.output != "text" && f.output != "json" {
		return fmt.Errorf("-o %q: expected text or json", f.output)
	}
	g, cfg, err := f.fleetFlags.load()
	if err != nil {
		return err
	}
	rest, contextNS, err := kubeconfig(f.kubeconfig, f.context)
	if err != nil {
		return err
	}
	rest.QPS, rest.Burst, rest.Timeout = f.qps, f.burst, f.timeout
	rest.UserAgent = "loom-diff"
	opts := controllers.DiffOptions{Config: cfg, Namespace: f.namespace, Concurrency: f.concurrency}
	if len(args) == 1 {
		opts.Name = args[0]
		if opts.Namespace == "" {
			opts.Namespace = contextNS
		}
	}
	start := time.Now()
	opts.Progress = progress(cmd.ErrOrStderr(), g.Instance.GVK.Kind, start)
	report, err := controllers.Diff(cmd.Context(), rest, g, opts)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	c := report.Counts()
	if f.output == "json" {
		if err := writeDiffJSON(out, report, c); err != nil {
			return err
		}
	} else {
		for i := range report.Instances {
			printInstance(out, report.Kind, &report.Instances[i])
		}
		fmt.Fprintln(out, summary(report.Kind, c, time.Since(start)))
	}
	switch {
	case c.Failed > 0:
		return &exitError{Code: 2, Err: fmt.Errorf("%d of %d %ss could not be diffed", c.Failed, c.Instances, report.Kind)}
	case c.Changed > 0:
		return &exitError{Code: 1, Err: fmt.Errorf("%d of %d %ss would change", c.Changed, c.Instances, report.Kind)}
	}
	return nil
}

// kubeconfig loads the client configuration as kubectl does, and the context's namespace.
func kubeconfig(path, context string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("no cluster to diff against: %w; name a kubeconfig with --kubeconfig or $KUBECONFIG", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", err
	}
	return cfg, ns, nil
}

// progress prints how far the diff got on w, at most every two seconds, for runs long
// enough to wonder about.
func progress(w io.Writer, kind string, start time.Time) func(done, total int) {
	var mu sync.Mutex
	last := start
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if now := time.Now(); now.Sub(last) >= 2*time.Second || (done == total && last != start) {
			last = now
			fmt.Fprintf(w, "loom diff: %d/%d %ss (%.1fs)\n", done, total, kind, now.Sub(start).Seconds())
		}
	}
}

// marks are the first column of an object's line, by action.
var marks = map[controllers.Action]string{
	controllers.Created: "+", controllers.Configured: "~", controllers.Adopted: "~",
	controllers.Replaced: "±", controllers.Pruned: "-", controllers.Refused: "!",
}

// printInstance prints what would change of one instance; nothing when nothing would.
func printInstance(w io.Writer, kind string, d *controllers.InstanceDiff) {
	if d.Err == nil && len(d.Objects) == 0 && len(d.Status) == 0 {
		return
	}
	fmt.Fprintf(w, "%s %s/%s\n", kind, d.Namespace, d.Name)
	if d.Err != nil {
		fmt.Fprintf(w, "  ! could not be diffed: %v\n", d.Err)
	}
	for _, o := range d.Objects {
		line := fmt.Sprintf("  %s %s %s (%s): %s", marks[o.Action], o.Kind, o.Name, o.Node, o.Action)
		if o.Error != "" {
			line += ": " + o.Error
		}
		fmt.Fprintln(w, line)
		printFields(w, o.Fields)
	}
	if len(d.Status) > 0 {
		fmt.Fprintln(w, "  ~ status")
		printFields(w, d.Status)
	}
	for _, n := range d.Notes {
		fmt.Fprintf(w, "  # %s\n", n)
	}
}

// printFields prints one line per field, old → new; a multi-line string changed in
// place as a line diff (go-cmp's).
func printFields(w io.Writer, fields []controllers.FieldChange) {
	for _, f := range fields {
		olds, oldStr := f.Old.(string)
		news, newStr := f.New.(string)
		if f.HasOld && f.HasNew && oldStr && newStr && (strings.Contains(olds, "\n") || strings.Contains(news, "\n")) {
			fmt.Fprintf(w, "      %s:\n", f.Path)
			for _, line := range strings.Split(strings.TrimRight(cmp.Diff(olds, news), "\n"), "\n") {
				fmt.Fprintf(w, "        %s\n", line)
			}
			continue
		}
		fmt.Fprintf(w, "      %s: %s → %s\n", f.Path, fieldValue(f.Old, f.HasOld), fieldValue(f.New, f.HasNew))
	}
}

func fieldValue(v any, has bool) string {
	if !has {
		return "(none)"
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// writeDiffJSON writes the instances that would change or could not be diffed, and the counts.
func writeDiffJSON(w io.Writer, report *controllers.DiffReport, c controllers.DiffCounts) error {
	type instance struct {
		controllers.InstanceDiff
		Error string `json:"error,omitempty"`
	}
	doc := struct {
		Kind      string         `json:"kind"`
		Instances []instance     `json:"instances"`
		Counts    map[string]int `json:"counts"`
	}{Kind: report.Kind, Instances: []instance{}, Counts: map[string]int{
		"instances": c.Instances, "changed": c.Changed, "unchanged": c.Unchanged, "failed": c.Failed, "status": c.Status,
	}}
	for action, n := range c.Objects {
		doc.Counts[string(action)] = n
	}
	for _, d := range report.Instances {
		if d.Err != nil || d.Changed() || len(d.Objects) > 0 {
			in := instance{InstanceDiff: d}
			if d.Err != nil {
				in.Error = d.Err.Error()
			}
			doc.Instances = append(doc.Instances, in)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// summary is the last line: instances and objects by what would happen to them.
func summary(kind string, c controllers.DiffCounts, took time.Duration) string {
	s := fmt.Sprintf("loom diff: %d %ss: %d would change, %d unchanged", c.Instances, kind, c.Changed, c.Unchanged)
	if c.Failed > 0 {
		s += fmt.Sprintf(", %d could not be diffed", c.Failed)
	}
	s += fmt.Sprintf("; objects: %d to create, %d to change, %d to prune",
		c.Objects[controllers.Created], c.Objects[controllers.Configured]+c.Objects[controllers.Adopted], c.Objects[controllers.Pruned])
	if n := c.Objects[controllers.Replaced]; n > 0 {
		s += fmt.Sprintf(", %d to replace", n)
	}
	if n := c.Objects[controllers.Refused]; n > 0 {
		s += fmt.Sprintf(", %d refused", n)
	}
	return s + fmt.Sprintf("; %d status changes (%.1fs)", c.Status, took.Seconds())
}
