// Command bench owns loom's fleet benchmark: it measures loom converging a fleet of
// MCPServers on the local control plane, and the floor: the same objects applied with no
// operator. It records the figures in
// BENCHMARKS.md, with the micro benchmarks' output when given one (`make bench` does both).
//
//	go run ./hack/bench [-n 100] [-mode loom|floor|both|diff|none] [-micro FILE] [-out BENCHMARKS.md]
//
// Each run gets a fresh control plane (internal/controlplane, binaries from `make tools`); loom's
// operator is bin/loom (`make build`), run as a child process as the operator user, bound to
// the least privileges the graph needs.
//
// It may import any loom package (the control plane, the controller, the engine, the
// embedded CRDs and graphs) and client-go; nothing the loom binary links imports it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/loom-mcp/loom/templates"
)

type config struct {
	n, namespaces      int
	mode, out, micro   string
	loomBin            string
	concurrency, burst int
	qps                float64
	idle, timeout      time.Duration
	targetsN           int
	noWrite            bool
	operatorArgs       []string
	grants             int // MCPAccessGrants per MCPServer (grants.go)
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	c := config{targetsN: 1000}
	n := 100
	if v := os.Getenv("N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: N=%q: want a positive integer\n", v)
			os.Exit(2)
		}
	}
	flag.IntVar(&c.n, "n", n, "MCPServers in the fleet (default: $N, else 100)")
	flag.IntVar(&c.namespaces, "namespaces", 10, "namespaces the fleet is spread over")
	flag.StringVar(&c.mode, "mode", "both", "loom, floor, both, diff (loom diff over the converged fleet, diff.go), or none (record -micro only)")
	flag.StringVar(&c.out, "out", "BENCHMARKS.md", "the results file to update")
	flag.StringVar(&c.micro, "micro", "", "output of `go test -bench` to record too")
	flag.StringVar(&c.loomBin, "loom", "bin/loom", "the loom binary")
	flag.IntVar(&c.concurrency, "concurrency", 16, "the operator's --concurrency; the floor applies as many servers' objects at once")
	flag.Float64Var(&c.qps, "qps", 200, "client QPS of the operator and of the floor")
	flag.IntVar(&c.burst, "burst", 400, "client burst of the operator and of the floor")
	flag.DurationVar(&c.idle, "idle", 60*time.Second, "the idle window after convergence")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Minute, "how long to wait for the fleet to converge")
	flag.BoolVar(&c.noWrite, "dry", false, "print the results; leave -out alone")
	flag.IntVar(&c.grants, "grants", 0, "MCPAccessGrants per MCPServer, created with the fleet; then one grant change is measured")
	flag.Var((*stringList)(&c.operatorArgs), "operator-arg", "one more `argument` of loom operator, e.g. -operator-arg=--memory-limit=80Mi (repeatable)")
	flag.Parse()
	switch c.mode {
	case "loom", "floor", "both", "diff", "none":
	default:
		fmt.Fprintf(os.Stderr, "bench: -mode %q: want loom, floor, both, diff or none\n", c.mode)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	rep := &report{When: time.Now().UTC(), Machine: machine(), C: c, Source: source(c.loomBin)}
	if c.micro != "" {
		var err error
		if rep.Micro, err = parseMicro(c.micro); err != nil {
			return err
		}
	}
	if c.mode != "none" {
		g, err := templates.LoadMCPServer()
		if err != nil {
			return err
		}
		want, err := renderFleet(ctx, g, c.n, c.namespaces)
		if err != nil {
			return err
		}
		rep.RenderPerServer = want.renderTime / time.Duration(c.n)
		rep.MinWrites = float64(want.objects+c.n) / float64(c.n)
		fmt.Printf("bench: N=%d in %d namespaces on %s; load average %.2f\n", c.n, c.namespaces, rep.Machine, loadAverage())
		if c.mode == "loom" || c.mode == "both" || c.mode == "diff" {
			if rep.Loom, err = runLoom(ctx, c, g); err != nil {
				return fmt.Errorf("loom run: %w", err)
			}
		}
		if c.mode == "floor" || c.mode == "both" {
			if rep.Floor, err = runFloor(ctx, c, g, want); err != nil {
				return fmt.Errorf("floor run: %w", err)
			}
		}
	}
	fmt.Println()
	fmt.Print(rep.markdown())
	if !c.noWrite {
		if err := rep.write(c.out); err != nil {
			return err
		}
		fmt.Printf("\nbench: updated %s\n", c.out)
	}
	for _, r := range []*result{rep.Loom, rep.Floor} {
		if r != nil && r.Err != nil {
			return fmt.Errorf("%s run stopped short: %w", r.Mode, r.Err)
		}
	}
	return nil
}

// source says what was measured: the commit checked out, whether the operator's sources
// differ from it, and when the loom binary was built (`make bench` builds it first).
func source(loomBin string) string {
	git := func(args ...string) string {
		out, err := exec.Command("git", args...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	s := "commit " + git("rev-parse", "--short", "HEAD")
	if s == "commit " {
		s = "commit unknown (no git)"
	} else if git("status", "--porcelain", "--", "api", "cmd", "config", "controllers", "engine", "templates", "go.mod", "go.sum") != "" {
		s += " with local changes to the operator's sources"
	}
	if fi, err := os.Stat(loomBin); err == nil {
		s += fmt.Sprintf("; %s built %s", loomBin, fi.ModTime().UTC().Format("2006-01-02 15:04:05 MST"))
	}
	return s
}
