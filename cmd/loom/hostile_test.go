package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

const hostileDir = "../../testdata/hostile"

// hostileCase is one entry of testdata/hostile/cases.yaml.
type hostileCase struct {
	Name  string   `json:"name"`
	What  string   `json:"what"`
	Args  []string `json:"args"`
	Error string   `json:"error"`
}

// TestHostileInputs runs loom on every hostile input of testdata/hostile: alias bombs,
// CEL that grows strings and lists, inputs that are pipes, devices, directories or too
// large. Each must end before the test's deadline, allocate less than a bound, and fail
// with the table's error text, which names the file and, in a graph, the line, column,
// resource and field.
func TestHostileInputs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(hostileDir, "cases.yaml"))
	require.NoError(t, err)
	var cases []hostileCase
	require.NoError(t, yaml.UnmarshalStrict(data, &cases))
	require.GreaterOrEqual(t, len(cases), 30)
	special := hostileFiles(t)

	const allocBound = 512 << 20 // bytes allocated by one case, in all
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			args := make([]string, len(c.Args))
			for i, a := range c.Args {
				switch {
				case special[a] != "":
					args[i] = special[a]
				case i > 0 && !strings.HasPrefix(a, "-") && !filepath.IsAbs(a):
					args[i] = filepath.Join(hostileDir, a)
				default:
					args[i] = a
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)

			cmd := newRootCmd()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(args)
			done := make(chan error, 1)
			go func() { done <- cmd.ExecuteContext(ctx) }()
			var runErr error
			select {
			case runErr = <-done:
			case <-ctx.Done():
				t.Fatalf("%s: still running at the test's deadline", c.What)
			}
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: %d MiB allocated", c.What, allocated>>20)
			assert.Less(t, allocated, uint64(allocBound), "%s: allocated", c.What)

			said := out.String()
			if runErr != nil {
				said += runErr.Error()
			} else {
				require.Contains(t, said, "Error (", "%s: loom render reported no error", c.What)
			}
			assert.Contains(t, said, c.Error, c.What)
		})
	}
}

// hostileFiles makes the inputs the table names in braces: a named pipe, a 4 MiB file, and
// a directory of observed objects holding one.
func hostileFiles(t *testing.T) map[string]string {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	large := filepath.Join(dir, "large.yaml")
	require.NoError(t, os.WriteFile(large, bytes.Repeat([]byte("a"), 4<<20), 0o600))
	largeDir := filepath.Join(dir, "observed")
	require.NoError(t, os.Mkdir(largeDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(largeDir, "cm.yaml"), bytes.Repeat([]byte("a"), 4<<20), 0o600))
	return map[string]string{"{fifo}": fifo, "{large}": large, "{largedir}": largeDir}
}
