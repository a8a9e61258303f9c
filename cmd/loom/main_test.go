package main

import (
	"os"
	"testing"
)

// runMainEnv makes the test binary run as the loom binary (the arguments after it are
// loom's), so tests can start `loom operator` processes, and kill them, without building
// the binary again.
const runMainEnv = "LOOM_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
