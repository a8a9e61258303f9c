package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// report is everything one invocation measured, and how it becomes BENCHMARKS.md.
type report struct {
	When    time.Time
	Machine string
	// Source is the commit measured (see source).
	Source string
	C      config
	// Micro is the output of the micro benchmarks, when given.
	Micro []benchLine
	// Loom and Floor are the runs made (nil when not).
	Loom, Floor *result
	// RenderPerServer is the engine's render time per MCPServer of the fleet, measured here.
	RenderPerServer time.Duration
	// MinWrites is the fewest writes per MCPServer an operator following the graph can make
	// while converging: one apply per rendered object (a server co-owning a shared object
	// applies its share) and one status write.
	MinWrites float64
}

// benchLine is one result of `go test -bench -benchmem`.
type benchLine struct {
	Pkg, Name               string
	NsPerOp                 float64
	BytesPerOp, AllocsPerOp int64
	Iterations              int64
	// Other are the metrics a benchmark reports itself (b.ReportMetric), as printed:
	// "10518031 B/graph".
	Other []string
}

// parseMicro reads the output of `go test -bench . -benchmem`.
func parseMicro(path string) ([]benchLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []benchLine
	pkg := ""
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(p, "github.com/loom-mcp/loom/")
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		b := benchLine{Pkg: pkg, Name: fields[0]}
		// A -N suffix is GOMAXPROCS.
		if i := strings.LastIndexByte(b.Name, '-'); i > 0 {
			if _, err := strconv.Atoi(b.Name[i+1:]); err == nil {
				b.Name = b.Name[:i]
			}
		}
		b.Iterations, _ = strconv.ParseInt(fields[1], 10, 64)
		for i := 2; i+1 < len(fields); i += 2 {
			switch fields[i+1] {
			case "ns/op":
				b.NsPerOp, _ = strconv.ParseFloat(fields[i], 64)
			case "B/op":
				b.BytesPerOp, _ = strconv.ParseInt(fields[i], 10, 64)
			case "allocs/op":
				b.AllocsPerOp, _ = strconv.ParseInt(fields[i], 10, 64)
			default:
				b.Other = append(b.Other, fields[i]+" "+fields[i+1])
			}
		}
		out = append(out, b)
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", path)
	}
	return out, nil
}

// microRender is the slowest render of one MCPServer among the micro benchmarks, 0 if none.
func (r *report) microRender() time.Duration {
	var worst float64
	for _, b := range r.Micro {
		if strings.HasPrefix(b.Name, "BenchmarkMCPServerRender/") {
			worst = max(worst, b.NsPerOp)
		}
	}
	return time.Duration(worst)
}

const header = `# loom benchmarks

Written by ` + "`make bench`" + ` (hack/bench); see the top of this file's committed version for
how to read and reproduce them.
`

// write puts the report's sections into path: each replaces the section of the same key
// (micro; a run of the same N), or is appended.
func (r *report) write(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		data, err = []byte(header), nil
	}
	if err != nil {
		return err
	}
	doc := string(data)
	if len(r.Micro) > 0 {
		doc = upsert(doc, "micro", r.microMarkdown())
	}
	if r.C.mode == "diff" && r.Loom != nil {
		doc = upsert(doc, fmt.Sprintf("diff N=%d", r.C.n), r.diffMarkdown())
	} else if r.Loom != nil || r.Floor != nil {
		key := fmt.Sprintf("run N=%d", r.C.n)
		if r.C.grants > 0 {
			key += fmt.Sprintf(" grants=%d", r.C.grants)
		}
		doc = upsert(doc, key, r.runMarkdown())
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}

// upsert replaces the block between <!-- bench:key --> and <!-- /bench:key --> in doc with
// section, or appends the block.
func upsert(doc, key, section string) string {
	start, end := "<!-- bench:"+key+" -->", "<!-- /bench:"+key+" -->"
	block := start + "\n" + strings.TrimRight(section, "\n") + "\n" + end
	i := strings.Index(doc, start)
	j := strings.Index(doc, end)
	if i >= 0 && j > i {
		return doc[:i] + block + doc[j+len(end):]
	}
	return strings.TrimRight(doc, "\n") + "\n\n" + block + "\n"
}

// markdown is what this invocation measured, as written to BENCHMARKS.md.
func (r *report) markdown() string {
	var b strings.Builder
	if len(r.Micro) > 0 {
		b.WriteString(r.microMarkdown())
		b.WriteString("\n")
	}
	if r.C.mode == "diff" && r.Loom != nil {
		b.WriteString(r.diffMarkdown())
	} else if r.Loom != nil || r.Floor != nil {
		b.WriteString(r.runMarkdown())
	}
	return b.String()
}

func (r *report) microMarkdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Micro benchmarks · %s\n\n", r.When.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %s; load average %.2f when recorded; %s.\n\n", r.Machine, loadAverage(), strings.Split(r.Source, ";")[0])
	b.WriteString("| package | benchmark | time/op | B/op | allocs/op | its own metrics |\n|---|---|---:|---:|---:|---|\n")
	for _, m := range r.Micro {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %s |\n", m.Pkg, strings.TrimPrefix(m.Name, "Benchmark"),
			duration(time.Duration(m.NsPerOp)), m.BytesPerOp, m.AllocsPerOp, strings.Join(m.Other, ", "))
	}
	return b.String()
}

func (r *report) runMarkdown() string {
	var b strings.Builder
	r.writeRunHeader(&b)
	r.writeFigures(&b)
	r.writeRequests(&b)
	b.WriteString(r.grantsMarkdown())
	r.writeCPU(&b)
	return b.String()
}

// writeRunHeader says what ran: the fleet, the machine, the operator's flags.
func (r *report) writeRunHeader(b *strings.Builder) {
	c := r.C
	loom, floor := r.Loom, r.Floor
	grants := ""
	if c.grants > 0 {
		grants = fmt.Sprintf(" with %d grants each", c.grants)
	}
	fmt.Fprintf(b, "### N = %d%s · %s\n\n", c.n, grants, r.When.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(b, "- Machine: %s.\n", r.Machine)
	fmt.Fprintf(b, "- Measured: %s.\n", r.Source)
	for _, run := range []*result{loom, floor} {
		if run != nil {
			fmt.Fprintf(b, "- %s run: load average %.2f before, %.2f after; started %s.\n", run.Mode, run.LoadStart, run.LoadEnd, run.Started.UTC().Format("15:04:05 MST"))
		}
	}
	extra := ""
	if len(c.operatorArgs) > 0 {
		extra = " " + strings.Join(c.operatorArgs, " ")
	}
	fmt.Fprintf(b, "- Fleet: %d MCPServers in %d namespaces, shapes in turn: %s. Operator: `--concurrency %d --kube-api-qps %g --kube-api-burst %d%s`; the floor's client has the same QPS and burst, and %d appliers. A fresh control plane for each run.\n",
		c.n, c.namespaces, strings.Join(shapes, ", "), c.concurrency, c.qps, c.burst, extra, get(floor, func(r *result) int { return r.Appliers }))
	for _, run := range []*result{loom, floor} {
		if run != nil && run.Err != nil {
			fmt.Fprintf(b, "- **The %s run stopped short:** %v\n", run.Mode, run.Err)
		}
	}
}

// writeFigures writes the table of figures against their targets.
func (r *report) writeFigures(b *strings.Builder) {
	c := r.C
	loom, floor := r.Loom, r.Floor
	b.WriteString("\n| figure | loom | floor | target (N = 1000) |\n|---|---:|---:|---|\n")
	row := func(name, l, f, target string) { fmt.Fprintf(b, "| %s | %s | %s | %s |\n", name, l, f, target) }
	secs := func(run *result, d time.Duration, count int) string {
		if run == nil {
			return "—"
		}
		if count < c.n {
			return fmt.Sprintf("%d/%d after %.1f s", count, c.n, d.Seconds())
		}
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	if loom != nil || floor != nil {
		row("every MCPServer created", secs(loom, get(loom, func(r *result) time.Duration { return r.Created }), c.n),
			secs(floor, get(floor, func(r *result) time.Duration { return r.Created }), c.n), "")
	}
	row("every Deployment rolled out and every Ingress addressed",
		secsObjects(loom, c.n), secsObjects(floor, c.n), "")
	if loom != nil {
		row("**every MCPServer Ready** (phase Ready, observedGeneration current)", "**"+secs(loom, loom.Ready, loom.ReadyCount)+"**", "—", "")
	}
	if loom != nil && floor != nil && loom.ReadyCount == c.n && floor.ObjectsCount == c.n {
		ratio := loom.Ready.Seconds() / floor.Objects.Seconds()
		row("**loom's all-Ready time ÷ the floor's**", fmt.Sprintf("**%.2f×**", ratio), "1", verdict(ratio <= 1.25, "≤ 1.25×"))
	}
	if loom != nil && loom.Converging != nil {
		with, without := writes(loom.Converging, true), writes(loom.Converging, false)
		n := float64(c.n)
		floorWrites := "—"
		if floor != nil {
			floorWrites = fmt.Sprintf("%.2f (applies, no status)", float64(floor.Applies)/n)
		}
		row("API writes per MCPServer while converging, Events excluded", fmt.Sprintf("%.2f", float64(without)/n), floorWrites,
			fmt.Sprintf("least possible: %.2f, one apply per object and one status write", r.MinWrites))
		row("API writes per MCPServer while converging, Events included", fmt.Sprintf("%.2f", float64(with)/n), "", verdict(float64(with)/n <= 5, "≤ 5"))
		if loom.IdleWindow > 0 {
			iw, ie, ig := writes(loom.Idle, true), writes(loom.Idle, false), verbCount(loom.Idle, "get")
			row(fmt.Sprintf("writes / GETs in the %.0f s idle window (writes without Events)", loom.IdleWindow.Seconds()),
				fmt.Sprintf("%d / %d (%d)", iw, ig, ie), "", verdict(iw == 0 && ig == 0, "0 / 0"))
		}
		row("operator CPU s: start / converging / idle / whole run", fmt.Sprintf("%.2f / %.2f / %.2f / %.2f", loom.CPUStartup, loom.CPUConverging, loom.CPUIdle, loom.CPUTotal), "",
			verdict(loom.CPUTotal <= 10, "whole run ≤ 10 s"))
		row("operator peak RSS (VmHWM); RSS once ready, before the fleet", fmt.Sprintf("%.1f MiB; %.1f MiB", float64(loom.PeakRSS)/(1<<20), float64(loom.ReadyRSS)/(1<<20)), "", verdict(loom.PeakRSS <= 76<<20, "≤ 76 MiB (MCP Runtime's)"))
	}
	if d := r.microRender(); d > 0 {
		row("render of one MCPServer (micro benchmark, slowest example)", duration(d), "", verdict(d <= 50*time.Microsecond, "≤ 50 µs"))
	}
	row("render of one MCPServer (this fleet, mean)", duration(r.RenderPerServer), "", verdict(r.RenderPerServer <= 50*time.Microsecond, "≤ 50 µs"))
	if c.n != c.targetsN {
		fmt.Fprintf(b, "\nThe targets are for N = %d; at N = %d they are shown for orientation.\n", c.targetsN, c.n)
	}
}

// writeRequests writes what the operator did while converging and in the idle window.
func (r *report) writeRequests(b *strings.Builder) {
	c := r.C
	loom := r.Loom
	if loom != nil && loom.EndAnon > 0 {
		fmt.Fprintf(b, "\nThe operator's RSS at the end of the run: %.1f MiB anonymous (Go heap, stacks) + %.1f MiB file-backed (pages of the loom binary).\n",
			float64(loom.EndAnon)/(1<<20), float64(loom.EndFile)/(1<<20))
	}
	if st := get(loom, func(r *result) reconcileStats { return r.Reconciling }); st.Reconciles > 0 {
		fmt.Fprintf(b, "\nloom's controller while converging (its metrics): %d reconciles, %.2f per MCPServer (%d work-queue adds); a reconcile took %.0f ms on average and waited %.0f ms in the queue before it.\n",
			st.Reconciles, float64(st.Reconciles)/float64(c.n), st.Adds, 1000*st.ReconcileSeconds/float64(st.Reconciles), 1000*st.QueueSeconds/float64(max(st.QueueCount, 1)))
	}
	if loom != nil && loom.Converging != nil {
		fmt.Fprintf(b, "\nloom operator's requests while converging (from the first create to the idle window), by verb and resource: %s.\n", counts(loom.Converging))
		if len(loom.Latency) > 0 {
			keys := make([]string, 0, len(loom.Latency))
			for k := range loom.Latency {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool { return loom.Latency[keys[i]].Count > loom.Latency[keys[j]].Count })
			parts := make([]string, len(keys))
			for i, k := range keys {
				l := loom.Latency[k]
				parts[i] = fmt.Sprintf("`%s` %s (p99 %s)", k, duration(l.Mean), duration(l.P99))
			}
			fmt.Fprintf(b, "\nkube-apiserver's mean time to answer them (audit log, receipt to response): %s.\n", strings.Join(parts, " · "))
		}
		if loom.IdleWindow > 0 {
			fmt.Fprintf(b, "\nIn the idle window (%.0f s): %s.\n", loom.IdleWindow.Seconds(), counts(loom.Idle))
		}
	}
}

// writeCPU writes the CPU each process took while the fleet converged.
func (r *report) writeCPU(b *strings.Builder) {
	loom, floor := r.Loom, r.Floor
	b.WriteString("\nCPU seconds while the fleet converged (first create until done), by process:\n\n")
	b.WriteString("| process | loom run | floor run |\n|---|---:|---:|\n")
	names := []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok"}
	cpu := func(run *result, f func(usage) float64) string {
		if run == nil {
			return "—"
		}
		return fmt.Sprintf("%.1f", f(run.Usage))
	}
	for _, name := range names {
		row2 := func(u usage) float64 { return u.Components[name] }
		fmt.Fprintf(b, "| %s | %s | %s |\n", name, cpu(loom, row2), cpu(floor, row2))
	}
	fmt.Fprintf(b, "| loom operator | %s | — |\n", cpu(loom, func(u usage) float64 { return u.Operator }))
	fmt.Fprintf(b, "| hack/bench (creates, watches; the floor's applies) | %s | %s |\n", cpu(loom, func(u usage) float64 { return u.Self }), cpu(floor, func(u usage) float64 { return u.Self }))
	fmt.Fprintf(b, "| other processes on the machine | %s | %s |\n", cpu(loom, usage.Others), cpu(floor, usage.Others))
	fmt.Fprintf(b, "| machine busy / available | %s | %s |\n", busy(loom), busy(floor))
}

func get[T any](r *result, f func(*result) T) T {
	if r == nil {
		var zero T
		return zero
	}
	return f(r)
}

func secsObjects(r *result, n int) string {
	if r == nil {
		return "—"
	}
	if r.ObjectsCount < n {
		return fmt.Sprintf("%d/%d after %.1f s", r.ObjectsCount, n, r.Objects.Seconds())
	}
	s := fmt.Sprintf("%.1f s", r.Objects.Seconds())
	if r.Mode == "floor" {
		s = "**" + s + "**"
	}
	return s
}

func busy(r *result) string {
	if r == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f / %.0f (%.0f%%)", r.Usage.MachineBusy, r.Usage.MachineTotal, 100*r.Usage.MachineBusy/max(r.Usage.MachineTotal, 1))
}

func verdict(ok bool, target string) string {
	if ok {
		return target + " ✅ met"
	}
	return target + " ❌ not met"
}

// writes counts create, update, patch, delete and deletecollection requests, Events among
// them or not.
func writes(counts map[string]int, events bool) int {
	total := 0
	for key, n := range counts {
		verb, resource, _ := strings.Cut(key, " ")
		switch verb {
		case "create", "update", "patch", "delete", "deletecollection":
			if resource == "events" && !events {
				continue
			}
			total += n
		}
	}
	return total
}

func verbCount(counts map[string]int, verb string) int {
	total := 0
	for key, n := range counts {
		if v, _, _ := strings.Cut(key, " "); v == verb {
			total += n
		}
	}
	return total
}

// counts lists counts by key, most first.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("`%s` %d", k, m[k])
	}
	return strings.Join(parts, " · ")
}

// duration prints d in µs below a millisecond, in ms below a second.
func duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}
