package controlplane_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/internal/controlplane"
)

// scenarioEnv makes this test binary a child that ends in the named way; see TestHelperScenario.
const scenarioEnv = "LOOM_CONTROLPLANE_SCENARIO"

// TestHelperScenario is not a test of its own: TestNothingLeftBehind runs this test binary
// again with scenarioEnv set, and then this function plays the named ending with the child's
// own control plane (started by the same TestMain). Without scenarioEnv it does nothing.
func TestHelperScenario(t *testing.T) {
	scenario := os.Getenv(scenarioEnv)
	if scenario == "" {
		return
	}
	fmt.Printf("scenario-dir=%s\n", cp.Dir)
	switch scenario {
	case "pass":
	case "fail":
		t.Fatal("failing on purpose")
	case "panic":
		// Kills the process from the test's goroutine: TestMain's defers do not run.
		panic("panicking on purpose")
	case "interrupt":
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
		time.Sleep(time.Minute) // RunTests stops the control plane and exits first
	case "kill":
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGKILL))
	}
}

// TestNothingLeftBehind runs a whole test binary with its own control plane, ending in each
// way a test run ends, and checks that no process of that control plane runs afterwards and
// its directory is gone.
func TestNothingLeftBehind(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		exitCode int
		output   string
	}{
		{"pass", 0, "--- PASS: TestHelperScenario"},
		{"fail", 1, "failing on purpose"},
		{"panic", 2, "panicking on purpose"},
		{"interrupt", 1, "stopping the control plane"},
		{"kill", -1, ""},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperScenario$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), scenarioEnv+"="+tc.scenario)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var exit *exec.ExitError
			if tc.exitCode == 0 {
				require.NoError(t, err, out.String())
			} else {
				require.True(t, errors.As(err, &exit), "%v\n%s", err, out.String())
				require.Equal(t, tc.exitCode, exit.ExitCode(), out.String())
			}
			assert.Contains(t, out.String(), tc.output)

			m := regexp.MustCompile(`scenario-dir=(\S+)`).FindStringSubmatch(out.String())
			require.NotNil(t, m, "the child did not get to its test:\n%s", out.String())
			requireGone(t, m[1])
		})
	}
}

// TestStopDir stops a detached control plane from its directory alone, as `loom local down`
// does from another process.
func TestStopDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "local")
	c, err := controlplane.Start(context.Background(), controlplane.WithDir(dir))
	require.NoError(t, err)
	c.Detach()

	_, comps, err := controlplane.Status(dir)
	require.NoError(t, err)
	require.Len(t, comps, 5)
	for _, comp := range comps {
		assert.True(t, comp.Running, comp.Name)
	}

	require.NoError(t, controlplane.StopDir(dir))
	requireGone(t, dir)
	_, _, err = controlplane.Status(dir)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, controlplane.StopDir(dir), "stopping what is not running is no error")
}

// TestStartFailureNamesComponent replaces kube-apiserver with a program that fails: Start says
// which component failed and shows its log, and leaves no process and only the logs behind.
func TestStartFailureNamesComponent(t *testing.T) {
	real := binDir(t)
	bin := t.TempDir()
	for _, name := range []string{"etcd", "kube-controller-manager", "kube-scheduler", "kwok"} {
		require.NoError(t, os.Symlink(filepath.Join(real, name), filepath.Join(bin, name)))
	}
	script := "#!/bin/sh\necho 'E0101 cannot serve: on purpose' >&2\nexit 3\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "kube-apiserver"), []byte(script), 0o755))

	parent := t.TempDir()
	_, err := controlplane.Start(context.Background(), controlplane.WithBinDir(bin), controlplane.WithParentDir(parent))
	var compErr *controlplane.ComponentError
	require.ErrorAs(t, err, &compErr)
	assert.Equal(t, "kube-apiserver", compErr.Component)
	assert.Contains(t, compErr.Tail, "cannot serve: on purpose")
	assert.Contains(t, err.Error(), compErr.Log)

	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	dir := filepath.Join(parent, entries[0].Name())
	requireNoProcess(t, dir)
	kept, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, kept, 1, "only logs/ is kept")
	assert.Equal(t, "logs", kept[0].Name())
	assert.FileExists(t, compErr.Log)
}

// binDir is where the package's control plane found its binaries.
func binDir(t *testing.T) string {
	t.Helper()
	_, comps, err := controlplane.Status(cp.Dir)
	require.NoError(t, err)
	for _, c := range comps {
		if c.Name == "etcd" {
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", c.PID))
			require.NoError(t, err)
			return filepath.Dir(exe)
		}
	}
	t.Fatal("no etcd in the package's control plane")
	return ""
}

// requireGone waits until no process mentions dir on its command line and dir is gone. It
// waits because after a crash the watchdog cleans up on its own time.
func requireGone(t *testing.T, dir string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := os.Stat(dir)
		return errors.Is(err, os.ErrNotExist) && len(processesIn(dir)) == 0
	}, 30*time.Second, 100*time.Millisecond, "left behind: dir %s, processes %v", dir, processesIn(dir))
}

func requireNoProcess(t *testing.T, dir string) {
	t.Helper()
	assert.Empty(t, processesIn(dir))
}

// processesIn lists the live processes whose command line mentions dir: every component of
// the control plane in dir, and its watchdog, have it among their arguments.
func processesIn(dir string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err == nil && bytes.Contains(cmdline, []byte(dir)) {
			found = append(found, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return found
}

// TestStartRetriesTakenPort: a component that cannot bind its port makes Start try again on
// other ports, three times in all, and only the last attempt's logs are kept.
func TestStartRetriesTakenPort(t *testing.T) {
	bin, parent := t.TempDir(), t.TempDir()
	attempts := filepath.Join(t.TempDir(), "attempts")
	script := fmt.Sprintf("#!/bin/sh\necho x >> %s\necho 'listen tcp 127.0.0.1:1: bind: address already in use' >&2\nexit 1\n", attempts)
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755))
	}

	_, err := controlplane.Start(context.Background(), controlplane.WithBinDir(bin), controlplane.WithParentDir(parent))
	var compErr *controlplane.ComponentError
	require.ErrorAs(t, err, &compErr)
	assert.Equal(t, "etcd", compErr.Component)
	data, err := os.ReadFile(attempts)
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(data), "x"))
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the failed attempts before the last leave nothing")
}

// TestStartRestartsKwokOnce: a kwok that exits during its first start (kwok v0.7.0 sometimes
// panics there) is started once more, and the control plane comes up with its node Ready; a
// kwok that exits every time fails Start, naming it.
func TestStartRestartsKwokOnce(t *testing.T) {
	real := binDir(t)
	for _, tc := range []struct {
		name     string
		failures int
		starts   int
		ok       bool
	}{
		{"first start panics", 1, 2, true},
		{"every start panics", 99, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin, parent := t.TempDir(), t.TempDir()
			for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
				require.NoError(t, os.Symlink(filepath.Join(real, name), filepath.Join(bin, name)))
			}
			starts := filepath.Join(t.TempDir(), "starts")
			script := fmt.Sprintf("#!/bin/sh\necho x >> %[1]s\nif [ $(wc -l < %[1]s) -le %[2]d ]; then echo 'panic: on purpose' >&2; exit 2; fi\nexec %[3]s \"$@\"\n",
				starts, tc.failures, filepath.Join(real, "kwok"))
			require.NoError(t, os.WriteFile(filepath.Join(bin, "kwok"), []byte(script), 0o755))

			c, err := controlplane.Start(context.Background(), controlplane.WithBinDir(bin), controlplane.WithParentDir(parent))
			if c != nil {
				t.Cleanup(func() { _ = c.Stop() })
			}
			data, readErr := os.ReadFile(starts)
			require.NoError(t, readErr)
			assert.Equal(t, tc.starts, strings.Count(string(data), "x"), "kwok's starts")
			if !tc.ok {
				var compErr *controlplane.ComponentError
				require.ErrorAs(t, err, &compErr)
				assert.Equal(t, "kwok", compErr.Component)
				assert.Contains(t, compErr.Tail, "panic: on purpose")
				return
			}
			require.NoError(t, err)
			_, comps, err := controlplane.Status(c.Dir)
			require.NoError(t, err)
			kwoks := 0
			for _, comp := range comps {
				if comp.Name == "kwok" {
					kwoks++
					assert.True(t, comp.Running, "the second kwok runs")
				}
			}
			assert.Equal(t, 1, kwoks, "the dead kwok is no longer a component")
		})
	}
}
