package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/internal/controlplane"
)

// result is what one run measured. Durations count from the first MCPServer create.
type result struct {
	Mode    string
	Started time.Time
	// Created: every MCPServer created. Objects: every Deployment rolled out and every
	// Ingress addressed. Ready (loom only): every MCPServer Ready for its generation.
	Created, Objects, Ready time.Duration
	// ObjectsCount and ReadyCount say how far a run that stopped short got.
	ObjectsCount, ReadyCount int
	// Err says why the run stopped short, if it did.
	Err error
	// Usage is CPU time spent while the fleet converged, by process.
	Usage usage
	// LoadStart and LoadEnd are the one-minute load averages around the run.
	LoadStart, LoadEnd float64

	// loom only: the operator's requests by "verb resource" while converging (from the
	// first create until the idle window) and in the idle window, from the audit log.
	Converging, Idle map[string]int
	IdleWindow       time.Duration
	// The operator's CPU seconds: from its start until /readyz, while converging (first
	// create until all Ready), in the idle window, and over its whole life.
	CPUStartup, CPUConverging, CPUIdle, CPUTotal float64
	// Latency is how long the API server took to answer the operator's requests while
	// converging, by "verb resource".
	Latency map[string]latency
	// Reconciling is what the controller did while converging, from its metrics.
	Reconciling reconcileStats
	// ReadyRSS is the operator's VmRSS once ready, before the fleet; PeakRSS its VmHWM at
	// the end. In bytes.
	ReadyRSS, PeakRSS int64
	// EndAnon and EndFile split the operator's RSS at the end: anonymous memory (the Go
	// heap, stacks) and file-backed pages (mostly the loom binary's own code and data).
	EndAnon, EndFile int64

	// With -grants: how long creating them took, and what one grant change cost.
	GrantsCreated time.Duration
	GrantChange   *grantChange

	// With -mode diff: loom diff over the converged fleet (diff.go).
	Diff []diffRun

	// floor only: the server-side applies made, by how many goroutines.
	Applies, Appliers int
}

// runLoom measures loom's operator converging the fleet on a fresh control plane.
func runLoom(ctx context.Context, c config, g *graph.Graph) (res *result, err error) {
	res = &result{Mode: "loom", Started: time.Now(), LoadStart: loadAverage()}
	cp, err := controlplane.Start(ctx, controlplane.WithAuditLog())
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, cp.Stop()) }()
	fmt.Printf("loom: control plane ready in %.1fs\n", cp.ReadyIn.Seconds())
	if err := prepare(ctx, cp, g, c.namespaces); err != nil {
		return nil, err
	}
	t, err := newTracker(ctx, cp.AdminConfig(), c.n)
	if err != nil {
		return nil, err
	}

	op, err := startOperator(ctx, c, cp.OperatorKubeconfig)
	if err != nil {
		return nil, err
	}
	defer func() {
		// res is nil when the run failed (err is set).
		if stopErr := op.stop(); stopErr != nil && res != nil && res.Err == nil {
			res.Err = stopErr
		}
		// The operator's log explains a failed run; a good one needs no explaining.
		if err == nil && res.Err == nil {
			_ = os.Remove(op.log)
		} else {
			fmt.Printf("loom: the operator's log: %s\n", op.log)
		}
	}()
	if res.CPUStartup, err = cpuSeconds(op.pid()); err != nil {
		return nil, err
	}
	if res.ReadyRSS, err = statusKB(fmt.Sprintf("/proc/%d/status", op.pid()), "VmRSS:"); err != nil {
		return nil, err
	}
	fmt.Printf("loom: operator ready (pid %d, %.2f CPU s to start; log %s)\n", op.pid(), res.CPUStartup, op.log)

	begin, waitErr, err := converge(ctx, c, cp, op, t, res)
	if err != nil {
		return nil, err
	}
	idleStart, err := idle(ctx, c, op, res, waitErr == nil)
	if err != nil {
		return nil, err
	}
	if err := finish(ctx, c, cp, op, res, begin, idleStart, waitErr == nil); err != nil {
		return nil, err
	}
	return res, nil
}

// converge creates the fleet (and its grants) and waits until every server is Ready,
// recording the times, the processes' CPU and the operator's reconciles in res.
func converge(ctx context.Context, c config, cp *controlplane.ControlPlane, op *operator, t *tracker, res *result) (begin time.Time, waitErr, err error) {
	before, err := snapshot(cp, op.pid())
	if err != nil {
		return begin, nil, err
	}
	begin = t.begin()
	if res.Created, err = createFleet(ctx, userConfig(cp), c.n, c.namespaces, nil); err != nil {
		return begin, nil, err
	}
	if c.grants > 0 {
		if res.GrantsCreated, err = createGrants(ctx, userConfig(cp), c.n, c.namespaces, c.grants); err != nil {
			return begin, nil, err
		}
	}
	p, waitErr := t.wait(ctx, "loom", c.timeout, func(p progress) bool { return p.servers >= c.n })
	res.Ready, res.ReadyCount = p.serversLast, p.servers
	res.Objects, res.ObjectsCount = p.objectsLast, p.objects
	after, err := snapshot(cp, op.pid())
	if err != nil {
		return begin, nil, err
	}
	res.Usage = after.minus(before)
	res.CPUConverging = res.Usage.Operator
	if res.Reconciling, err = op.scrape(); err != nil {
		return begin, nil, err
	}
	if waitErr != nil {
		res.Err = waitErr
	}
	fmt.Printf("loom: %d/%d Ready in %.1fs (objects ready at %.1fs)\n", p.servers, c.n, p.serversLast.Seconds(), p.objectsLast.Seconds())
	return begin, waitErr, nil
}

// idle waits c.idle with nothing changing (when the fleet converged), recording the
// operator's CPU in res; the requests of that window are counted from the audit log later.
func idle(ctx context.Context, c config, op *operator, res *result, converged bool) (idleStart time.Time, err error) {
	// Idle: nothing changes; count what the operator still asks for. The last status writes
	// and their Events settle first.
	time.Sleep(2 * time.Second)
	idleStart = time.Now()
	cpuIdleStart, err := cpuSeconds(op.pid())
	if err != nil {
		return idleStart, err
	}
	if converged {
		fmt.Printf("loom: idle window of %s\n", c.idle)
		select {
		case <-time.After(c.idle):
		case <-ctx.Done():
			return idleStart, ctx.Err()
		}
		res.IdleWindow = time.Since(idleStart)
	}
	end, err := cpuSeconds(op.pid())
	if err != nil {
		return idleStart, err
	}
	res.CPUIdle, res.CPUTotal = end-cpuIdleStart, end
	return idleStart, nil
}

// finish records what one grant change cost, loom diff over the fleet (-mode diff), the
// operator's memory, and its requests while converging and in the idle window.
func finish(ctx context.Context, c config, cp *controlplane.ControlPlane, op *operator, res *result, begin, idleStart time.Time, converged bool) error {
	var err error
	if c.grants > 0 && converged {
		if res.GrantChange, err = changeGrant(ctx, cp, op, userConfig(cp), c.namespaces); err != nil {
			return err
		}
	}
	if c.mode == "diff" && converged {
		if res.Diff, err = measureDiff(ctx, c, cp); err != nil {
			return err
		}
	}
	if res.PeakRSS, err = peakRSS(op.pid()); err != nil {
		return err
	}
	status := fmt.Sprintf("/proc/%d/status", op.pid())
	if res.EndAnon, err = statusKB(status, "RssAnon:"); err != nil {
		return err
	}
	if res.EndFile, err = statusKB(status, "RssFile:"); err != nil {
		return err
	}
	res.LoadEnd = loadAverage()

	reqs, err := cp.Audit.Requests(begin)
	if err != nil {
		return err
	}
	if res.Latency, err = auditLatencies(cp.Audit.Path, begin, idleStart); err != nil {
		return err
	}
	res.Converging, res.Idle = map[string]int{}, map[string]int{}
	for _, r := range reqs {
		switch {
		case r.Time.Before(idleStart):
			res.Converging[r.Key()]++
		case res.IdleWindow > 0 && r.Time.Before(idleStart.Add(res.IdleWindow)):
			res.Idle[r.Key()]++
		}
	}
	return nil
}

// operator is `loom operator` running as a child process, as the operator user.
type operator struct {
	cmd     *exec.Cmd
	log     string
	metrics string // URL of its Prometheus metrics
	exited  chan struct{}
}

func (o *operator) pid() int { return o.cmd.Process.Pid }

// startOperator runs bin/loom operator with the operator user's kubeconfig and returns once
// its /readyz answers 200 (informer caches synced).
func startOperator(ctx context.Context, c config, kubeconfig string) (*operator, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	probe, metrics := addrs[0], addrs[1]
	logFile, err := os.CreateTemp("", "loom-bench-operator-*.log")
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(c.loomBin, "operator", "--kubeconfig", kubeconfig,
		"--metrics-bind-address", metrics, "--health-probe-bind-address", probe,
		"--set", "gatewayProxyImage="+gatewayImage,
		"--concurrency", strconv.Itoa(c.concurrency),
		"--kube-api-qps", strconv.FormatFloat(c.qps, 'f', -1, 32), "--kube-api-burst", strconv.Itoa(c.burst))
	cmd.Args = append(cmd.Args, c.operatorArgs...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, out of reach of a terminal's Ctrl-C (stop ends it); and it
	// dies with this program.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", c.loomBin, err)
	}
	o := &operator{cmd: cmd, log: logFile.Name(), metrics: "http://" + metrics + "/metrics", exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(o.exited) }()

	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get("http://" + probe + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return o, nil
			}
		}
		select {
		case <-o.exited:
			return nil, fmt.Errorf("loom operator exited before it was ready; log: %s", o.log)
		case <-ctx.Done():
			_ = o.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = o.stop()
			return nil, fmt.Errorf("loom operator not ready after 2m; log: %s", o.log)
		}
	}
}

// freeAddrs returns n distinct free loopback addresses.
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all are chosen
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// stop ends the operator: SIGTERM, then SIGKILL after 10 s.
func (o *operator) stop() error {
	_ = syscall.Kill(-o.pid(), syscall.SIGTERM)
	select {
	case <-o.exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-o.pid(), syscall.SIGKILL)
		<-o.exited
		return fmt.Errorf("loom operator ignored SIGTERM for 10s; log: %s", o.log)
	}
}

// usage is CPU seconds spent by the processes of a run, and by the whole machine.
type usage struct {
	Components   map[string]float64 // the control plane's processes, by name
	Operator     float64            // loom operator (loom run only)
	Self         float64            // this program: the fleet's creates, the watches (and the floor's applies)
	MachineBusy  float64            // every process of the machine, ours and others'
	MachineTotal float64            // wall time × cores
}

// Others is the CPU time of processes that are not part of the run (other users).
func (u usage) Others() float64 {
	v := u.MachineBusy - u.Operator - u.Self
	for _, c := range u.Components {
		v -= c
	}
	return max(v, 0)
}

func snapshot(cp *controlplane.ControlPlane, operatorPID int) (usage, error) {
	u := usage{Components: map[string]float64{}}
	_, comps, err := controlplane.Status(cp.Dir)
	if err != nil {
		return u, err
	}
	for _, comp := range comps {
		if u.Components[comp.Name], err = cpuSeconds(comp.PID); err != nil {
			return u, fmt.Errorf("%s: %w", comp.Name, err)
		}
	}
	if operatorPID != 0 {
		if u.Operator, err = cpuSeconds(operatorPID); err != nil {
			return u, err
		}
	}
	if u.Self, err = cpuSeconds(os.Getpid()); err != nil {
		return u, err
	}
	m, err := readMachineCPU()
	u.MachineBusy, u.MachineTotal = m.busy, m.total
	return u, err
}

func (u usage) minus(v usage) usage {
	out := usage{Components: map[string]float64{}, Operator: u.Operator - v.Operator, Self: u.Self - v.Self,
		MachineBusy: u.MachineBusy - v.MachineBusy, MachineTotal: u.MachineTotal - v.MachineTotal}
	for name, c := range u.Components {
		out.Components[name] = c - v.Components[name]
	}
	return out
}

// reconcileStats are the controller's own figures, from its Prometheus metrics: how many
// reconciles ran, how long they took and how long requests waited in the work queue.
type reconcileStats struct {
	Reconciles       int
	ReconcileSeconds float64 // summed over reconciles
	Adds             int     // work queue adds, before de-duplication
	QueueSeconds     float64 // time requests waited in the queue, summed
	QueueCount       int
}

// scrape reads the operator's controller metrics.
func (o *operator) scrape() (reconcileStats, error) {
	var st reconcileStats
	resp, err := http.Get(o.metrics)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET %s: %s", o.metrics, resp.Status)
	}
	s := bufio.NewScanner(resp.Body)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		name, value := line[:i], line[i+1:]
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		metric, _, _ := strings.Cut(name, "{")
		switch metric {
		case "controller_runtime_reconcile_total":
			st.Reconciles += int(v)
		case "controller_runtime_reconcile_time_seconds_sum":
			st.ReconcileSeconds += v
		case "workqueue_adds_total":
			st.Adds += int(v)
		case "workqueue_queue_duration_seconds_sum":
			st.QueueSeconds += v
		case "workqueue_queue_duration_seconds_count":
			st.QueueCount += int(v)
		}
	}
	return st, s.Err()
}
