package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/loom-mcp/loom/internal/controlplane"
)

// newLocalCmd is `loom local up|down|status`: a control plane on loopback that outlives the
// command, for trying loom by hand and for `make run`.
func newLocalCmd() *cobra.Command {
	var binDir, stateDir string
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Run a local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) on 127.0.0.1",
		Long: `loom local starts a real Kubernetes control plane on loopback ports, with one fake node
(kwok) on which Pods go Running and Ready and Ingresses get a load-balancer address. It needs
the binaries that "make tools" builds into bin/. It keeps running after "loom local up"
returns, until "loom local down".`,
	}
	cmd.PersistentFlags().StringVar(&binDir, "bin-dir", "",
		"directory with etcd, kube-apiserver, ... (default: next to the loom binary if they are there, else bin/ of the enclosing repository)")
	cmd.PersistentFlags().StringVar(&stateDir, "state-dir", defaultStateDir(),
		"directory for the control plane's files; it lives in <state-dir>/controlplane")
	dir := func() string { return filepath.Join(stateDir, "controlplane") }

	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Start the control plane in the background and print its kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			down := "loom local down"
			if cmd.Flags().Changed("state-dir") {
				down += " --state-dir " + stateDir
			}
			return localUp(cmd, dir(), resolveBinDir(binDir), down)
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "Say whether the control plane runs, and each component's process and log",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return localStatus(cmd, dir())
		},
	}, &cobra.Command{
		Use:   "down",
		Short: "Stop every component and remove the control plane's directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(dir()); errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(cmd.OutOrStdout(), "no control plane in %s\n", dir())
				return nil
			}
			if err := controlplane.StopDir(dir()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "control plane stopped, %s removed\n", dir())
			return nil
		},
	})
	return cmd
}

func localUp(cmd *cobra.Command, dir, binDir, down string) error {
	out := cmd.OutOrStdout()
	if _, comps, err := controlplane.Status(dir); err == nil {
		if allRunning(comps) {
			fmt.Fprintf(out, "control plane already up\nkubeconfig: %s\n", filepath.Join(dir, "kubeconfig"))
			return nil
		}
		// Left over from a crash or a reboot: clear it and start afresh.
		if err := controlplane.StopDir(dir); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	} else if err := os.RemoveAll(dir); err != nil { // logs of a failed start, if any
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	// Ctrl-C during the start abandons it; Start leaves no process behind.
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(out, "starting the control plane in %s\n", dir)
	c, err := controlplane.Start(ctx, controlplane.WithDir(dir), controlplane.WithBinDir(binDir))
	if err != nil {
		return err
	}
	c.Detach()
	fmt.Fprintf(out, "control plane ready in %.1fs\n", c.ReadyIn.Seconds())
	fmt.Fprintf(out, "kubeconfig: %s\n", c.Kubeconfig)
	fmt.Fprintf(out, "operator kubeconfig (user %s): %s\n", controlplane.OperatorUser, c.OperatorKubeconfig)
	fmt.Fprintf(out, "try: kubectl --kubeconfig %s get nodes\n", c.Kubeconfig)
	fmt.Fprintln(out, "stop it with:", down)
	return nil
}

func localStatus(cmd *cobra.Command, dir string) error {
	out := cmd.OutOrStdout()
	server, comps, err := controlplane.Status(dir)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no control plane in %s (start one with: loom local up)", dir)
	}
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	fmt.Fprintf(out, "server: %s\nkubeconfig: %s\n", server, kubeconfig)
	if err := apiserverReady(kubeconfig); err != nil {
		fmt.Fprintf(out, "kube-apiserver: not ready: %v\n", err)
	} else {
		fmt.Fprintln(out, "kube-apiserver: ready")
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tPID\tSTATE\tLOG")
	for _, c := range comps {
		state := "running"
		if !c.Running {
			state = "exited"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", c.Name, c.PID, state, c.Log)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !allRunning(comps) {
		return fmt.Errorf("the control plane in %s is broken: run `loom local down` then `loom local up`", dir)
	}
	return nil
}

func apiserverReady(kubeconfig string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.Timeout = 3 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	_, err = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
	return err
}

func allRunning(comps []controlplane.Component) bool {
	for _, c := range comps {
		if !c.Running {
			return false
		}
	}
	return len(comps) > 0
}

// resolveBinDir prefers --bin-dir, then the loom binary's own directory when the control
// plane's binaries sit there (bin/loom next to bin/kube-apiserver), and otherwise leaves the
// choice to the controlplane package (bin/ of the enclosing repository).
func resolveBinDir(flag string) string {
	if flag != "" {
		return flag
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err == nil {
			return dir
		}
	}
	return ""
}

// defaultStateDir is $XDG_STATE_HOME/loom, or ~/.local/state/loom.
func defaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "loom")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "loom")
	}
	return filepath.Join(os.TempDir(), "loom")
}
