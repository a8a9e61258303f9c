package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/loom-mcp/loom/config/crd"
	"github.com/loom-mcp/loom/internal/controlplane"
	"github.com/loom-mcp/loom/templates"
)

// With -mode diff, the fleet converges under loom's operator as in the loom run, and then
// `loom diff` runs over it twice, as the operator user: with the graph the fleet runs (no
// change: every apply a no-op, so no dry run) and with a graph that changes one field of
// every Deployment (one dry-run apply each). The section written is `diff N=<n>`.

// diffRun is what one `loom diff` over the live fleet cost.
type diffRun struct {
	Label   string
	Command string
	Took    time.Duration
	Exit    int
	Summary string // loom diff's last line
	// Requests of the run by "verb resource", a dry run as "dry-run verb resource"
	// (discovery left out), from the audit log.
	Requests    map[string]int
	CPU         float64 // user + system seconds of the loom diff process
	MaxRSS      int64   // bytes
	ChangedObjs int     // object lines in the output
}

// oneFieldEdit changes the liveness probe period of the server container: one field of
// every Deployment, nothing else.
var oneFieldEdit = [2]string{
	"livenessProbe: {tcpSocket: {port: '${ vars.port }'}, initialDelaySeconds: 5, periodSeconds: 10}",
	"livenessProbe: {tcpSocket: {port: '${ vars.port }'}, initialDelaySeconds: 5, periodSeconds: 15}",
}

// measureDiff runs loom diff over the converged fleet, unchanged and with oneFieldEdit.
func measureDiff(ctx context.Context, c config, cp *controlplane.ControlPlane) ([]diffRun, error) {
	src := string(templates.MCPServer)
	if !strings.Contains(src, oneFieldEdit[0]) {
		return nil, fmt.Errorf("the graph no longer has the field the diff run changes: %q", oneFieldEdit[0])
	}
	dir, err := os.MkdirTemp("", "loom-bench-diff-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	changed := filepath.Join(dir, "mcpserver.yaml")
	if err := os.WriteFile(changed, []byte(strings.Replace(src, oneFieldEdit[0], oneFieldEdit[1], 1)), 0o600); err != nil {
		return nil, err
	}
	base := []string{"diff", "--kubeconfig", cp.OperatorKubeconfig, "--set", "gatewayProxyImage=" + gatewayImage}
	withGraph := append(append([]string{}, base...), "--graph", changed)
	third, err := templates.ThirdPartyCRDs()
	if err != nil {
		return nil, err
	}
	for _, f := range append(crd.All(), third...) {
		withGraph = append(withGraph, "--crd", f.Name)
	}
	var runs []diffRun
	for _, r := range []struct {
		label string
		args  []string
	}{
		{"the graph the fleet runs", base},
		{"one field of the Deployment changed (livenessProbe.periodSeconds)", withGraph},
	} {
		run, err := runDiff(ctx, c, cp, r.label, r.args)
		if err != nil {
			return nil, err
		}
		fmt.Printf("diff: %s: %.1fs, exit %d: %s\n", r.label, run.Took.Seconds(), run.Exit, run.Summary)
		runs = append(runs, run)
	}
	return runs, nil
}

func runDiff(ctx context.Context, c config, cp *controlplane.ControlPlane, label string, args []string) (diffRun, error) {
	run := diffRun{Label: label, Command: "loom " + strings.Join(args, " ")}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.loomBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	begin := time.Now()
	err := cmd.Run()
	run.Took = time.Since(begin)
	run.Exit = cmd.ProcessState.ExitCode()
	if err != nil && run.Exit != 1 {
		return run, fmt.Errorf("%s: %w\n%s", run.Command, err, stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		run.MaxRSS = ru.Maxrss << 10
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		switch {
		case strings.HasPrefix(line, "loom diff: "):
			run.Summary = line
		case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "  #"):
			run.ChangedObjs++
		}
	}
	reqs, err := cp.Audit.Requests(begin)
	if err != nil {
		return run, err
	}
	run.Requests = map[string]int{}
	for _, r := range reqs {
		switch {
		case strings.HasPrefix(r.Resource, "/"):
		case r.DryRun:
			run.Requests["dry-run "+r.Key()]++
		default:
			run.Requests[r.Key()]++
		}
	}
	return run, nil
}

// diffMarkdown is the `diff N=<n>` section.
func (r *report) diffMarkdown() string {
	var b strings.Builder
	c, loom := r.C, r.Loom
	fmt.Fprintf(&b, "### loom diff, N = %d · %s\n\n", c.n, r.When.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Machine: %s.\n- Measured: %s.\n", r.Machine, r.Source)
	fmt.Fprintf(&b, "- `go run ./hack/bench -n %d -mode diff -idle %s`: the fleet (%d MCPServers in %d namespaces, shapes in turn: %s) converged under `loom operator` in %.1f s (load average %.2f before, %.2f after), then `loom diff` ran twice as the operator user, with the operator idle.\n",
		c.n, c.idle, c.n, c.namespaces, strings.Join(shapes, ", "), loom.Ready.Seconds(), loom.LoadStart, loom.LoadEnd)
	if loom.Err != nil {
		fmt.Fprintf(&b, "- **The fleet did not converge:** %v\n", loom.Err)
	}
	b.WriteString("\n| graph | wall time | exit | summary | loom diff CPU s | peak RSS | requests |\n|---|---:|---:|---|---:|---:|---|\n")
	for _, d := range loom.Diff {
		fmt.Fprintf(&b, "| %s | **%.1f s** | %d | %s | %.1f | %.0f MiB | %s |\n", d.Label, d.Took.Seconds(), d.Exit,
			summaryCounts.ReplaceAllString(strings.TrimPrefix(d.Summary, "loom diff: "), ""), d.CPU, float64(d.MaxRSS)/(1<<20), counts(d.Requests))
	}
	fmt.Fprintf(&b, "\nTarget: within 60 s at N = 1000 (%s).\n", verdict(maxDiff(loom.Diff) <= 60*time.Second, "≤ 60 s"))
	return b.String()
}

// summaryCounts matches the time at the end of loom diff's summary line, which the table
// gives as wall time (process start and graph load included).
var summaryCounts = regexp.MustCompile(` \([0-9.]+s\)$`)

func maxDiff(runs []diffRun) time.Duration {
	var d time.Duration
	for _, r := range runs {
		d = max(d, r.Took)
	}
	return d
}
