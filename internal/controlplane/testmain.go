package controlplane

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// RunTests is TestMain's body for a package of integration tests: one control plane for the
// whole package, in *cp while the tests run, stopped before RunTests returns m.Run's exit code.
//
//	var cp *controlplane.ControlPlane
//
//	func TestMain(m *testing.M) { os.Exit(controlplane.RunTests(m, &cp)) }
//
// A failed start fails the package: tests are never skipped for lack of a cluster. The
// control plane is torn down when the tests pass or fail, on a panic in TestMain's goroutine,
// and on SIGINT or SIGTERM (then the exit code is 1). What kills the process otherwise (a
// panicking test, the -timeout) is left to the watchdog, which cleans up the same way.
//
// m is a *testing.M; the interface keeps package testing out of the loom binary.
func RunTests(m interface{ Run() int }, cp **ControlPlane, opts ...Option) (code int) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan *ControlPlane, 1)
	go func() {
		select {
		case sig := <-signals:
			cancel() // abandons a start in progress; Start cleans up after itself
			if c := <-started; c != nil {
				fmt.Fprintf(os.Stderr, "controlplane: %v: stopping the control plane\n", sig)
				if err := c.Stop(); err != nil {
					fmt.Fprintln(os.Stderr, "controlplane:", err)
				}
			}
			os.Exit(1)
		case <-ctx.Done():
		}
	}()

	c, err := Start(ctx, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "controlplane: start failed:", err)
		started <- nil
		return 1
	}
	started <- c
	fmt.Fprintf(os.Stderr, "controlplane: ready in %.1fs (%s, kubeconfig %s)\n", c.ReadyIn.Seconds(), c.Dir, c.Kubeconfig)
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "controlplane: stop:", err)
			if code == 0 {
				code = 1
			}
		}
	}()
	*cp = c
	return m.Run()
}
