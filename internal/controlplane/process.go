package controlplane

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// component is one running program of the control plane.
type component struct {
	name   string
	log    string
	binDir string
	args   []string // the flags it was started with; Restart starts it again with them
	pid    int
	exited chan struct{} // closed once the process has exited and been reaped
	err    error         // why it exited; read only after exited is closed
}

// startComponent runs bin/<name> with its output in logs/<name>.log (appended to, across
// restarts). Each component leads its
// own session (so its own process group): a terminal's Ctrl-C, aimed at the foreground group,
// never reaches it half-way, and teardown signals the whole group.
func startComponent(dir, binDir, name string, args ...string) (*component, error) {
	logPath := filepath.Join(dir, "logs", name+".log")
	out, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child has its own descriptor
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, &ComponentError{Component: name, Log: logPath, Err: err}
	}
	c := &component{name: name, log: logPath, binDir: binDir, args: args, pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		if c.err == nil {
			c.err = errors.New("exited with status 0")
		}
		close(c.exited)
	}()
	return c, nil
}

func (c *component) running() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// fail wraps err with the component's name, log path and the log's last lines.
func (c *component) fail(err error) *ComponentError {
	return &ComponentError{Component: c.name, Log: c.log, Tail: tail(c.log, 15), Err: err}
}

// ComponentError says which component of the control plane failed, and where to look.
type ComponentError struct {
	Component string // etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
	Log       string // path of the component's log
	Tail      string // its last lines
	Err       error
}

func (e *ComponentError) Error() string {
	msg := fmt.Sprintf("%s: %v\n  log: %s", e.Component, e.Err, e.Log)
	if e.Tail != "" {
		msg += "\n  last lines:\n    " + strings.ReplaceAll(strings.TrimRight(e.Tail, "\n"), "\n", "\n    ")
	}
	return msg
}

func (e *ComponentError) Unwrap() error { return e.Err }

// portTaken reports whether the component failed because its port was in use.
func (e *ComponentError) portTaken() bool {
	data, err := os.ReadFile(e.Log)
	return err == nil && bytes.Contains(data, []byte("address already in use"))
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	data = bytes.TrimRight(data, "\n")
	for i, n := len(data)-1, 0; i >= 0; i-- {
		if data[i] == '\n' {
			if n++; n == lines {
				return string(data[i+1:])
			}
		}
	}
	return string(data)
}

// stopProcesses ends the process groups of the given pids: SIGTERM, then SIGKILL for whatever
// is still there after grace. alive says whether a pid still runs our program; it is not
// kill(pid, 0), which also answers for zombies and for an unrelated process that reused the pid.
func stopProcesses(pids []int, grace time.Duration, alive func(pid int) bool) {
	signalAll := func(sig syscall.Signal) (left int) {
		for _, pid := range pids {
			if alive(pid) {
				_ = syscall.Kill(-pid, sig)
				left++
			}
		}
		return left
	}
	waitGone := func(d time.Duration) bool {
		for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if signalAll(0) == 0 {
				return true
			}
		}
		return false
	}
	if signalAll(syscall.SIGTERM) == 0 || waitGone(grace) {
		return
	}
	signalAll(syscall.SIGKILL)
	waitGone(5 * time.Second)
}

// runsIn reports whether pid is a live process whose command line mentions dir: every
// component gets paths under its control plane's directory as flags.
func runsIn(pid int, dir string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && bytes.Contains(cmdline, []byte(dir))
}

// The watchdog is a small shell process that outlives its owner. The owner writes the pid of
// each component it starts to the watchdog's stdin, a pipe only the owner holds. If the owner
// goes away without saying "release" (a panic in a test, the test binary's timeout, SIGKILL),
// the pipe reaches EOF and the watchdog ends the components and removes the directory. bash,
// not sh: dash's kill cannot signal a process group.
const watchdogScript = `
trap '' INT TERM HUP
dir=$1 pids=
while read -r line; do
	case $line in
	release) exit 0 ;;
	*) pids="$pids $line" ;;
	esac
done
alive() { for p in $pids; do kill -0 -- "-$p" 2>/dev/null && return 0; done; return 1; }
for p in $pids; do kill -TERM -- "-$p" 2>/dev/null; done
for i in $(seq 50); do alive || break; sleep 0.1; done
for p in $pids; do kill -KILL -- "-$p" 2>/dev/null; done
for i in $(seq 50); do alive || break; sleep 0.1; done
rm -rf -- "$dir"
`

type watchdog struct {
	pipe   *os.File
	exited chan struct{}
}

func startWatchdog(dir string) (*watchdog, error) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		return nil, fmt.Errorf("the control plane's watchdog needs bash: %w", err)
	}
	r, w, err := os.Pipe() // close-on-exec: no component inherits the write end
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := exec.Command(bash, "-c", watchdogScript, "loom-controlplane-watchdog", dir)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	wd := &watchdog{pipe: w, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(wd.exited)
	}()
	return wd, nil
}

func (w *watchdog) watch(pid int) {
	_, _ = fmt.Fprintln(w.pipe, pid)
}

// release tells the watchdog to exit without touching anything: the owner has torn down the
// control plane itself, or detached it on purpose. It waits for the watchdog to be gone, so
// that after Stop no process of the control plane is left, the watchdog included.
func (w *watchdog) release() {
	_, _ = fmt.Fprintln(w.pipe, "release")
	_ = w.pipe.Close()
	select {
	case <-w.exited:
	case <-time.After(5 * time.Second):
	}
}
