package main

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
		err  string
	}{
		{name: "text", args: []string{"version"}, want: []string{"loom ", "commit: ", "go: " + runtime.Version()}},
		{name: "json", args: []string{"version", "-o", "json"}, want: []string{`"version": `, `"commit": `, `"goVersion": "` + runtime.Version() + `"`}},
		{name: "unknown format", args: []string{"version", "-o", "yaml"}, err: `-o "yaml": the output formats are json, or none for text`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runLoom(t, tt.args...)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
			if tt.args[len(tt.args)-1] == "json" {
				var v map[string]string
				require.NoError(t, json.Unmarshal([]byte(out), &v))
				assert.NotEmpty(t, v["commit"])
			}
		})
	}
}
