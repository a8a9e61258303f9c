package main

import (
	"archive/tar"
	"crypto/x509"
	"encoding/pem"
	"io"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testOptions() options {
	return options{binary: []byte("#!loom"), arch: "amd64", version: "v0.1.0", commit: "0123abcd",
		created: time.Unix(1700000000, 0).UTC(), source: "https://example.com/loom", licenses: "Apache-2.0"}
}

// TestBuildReproducible: the same inputs give the same digest; any input that differs
// gives another.
func TestBuildReproducible(t *testing.T) {
	digest := func(o options) string {
		img, err := build(o)
		require.NoError(t, err)
		d, err := img.Digest()
		require.NoError(t, err)
		return d.String()
	}
	first := digest(testOptions())
	assert.Equal(t, first, digest(testOptions()))
	tests := []struct {
		name   string
		change func(*options)
	}{
		{"binary", func(o *options) { o.binary = []byte("#!loom2") }},
		{"commit", func(o *options) { o.commit = "fedc" }},
		{"created", func(o *options) { o.created = o.created.Add(time.Second) }},
		{"arch", func(o *options) { o.arch = "arm64" }},
	}
	for _, tt := range tests {
		o := testOptions()
		tt.change(&o)
		assert.NotEqual(t, first, digest(o), tt.name)
	}
}

// TestImageConfig: the image runs `loom operator` as 65532, with the OCI labels, and its
// one layer holds the binary, the CA bundle and the passwd entry, stamped with the commit's
// time and owned by root.
func TestImageConfig(t *testing.T) {
	o := testOptions()
	img, err := build(o)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "65532:65532", cf.Config.User)
	assert.Equal(t, []string{"/loom"}, cf.Config.Entrypoint)
	assert.Equal(t, []string{"operator"}, cf.Config.Cmd)
	assert.Equal(t, "linux", cf.OS)
	assert.Equal(t, o.created, cf.Created.Time.UTC())
	assert.Equal(t, map[string]string{
		"org.opencontainers.image.title":       "loom",
		"org.opencontainers.image.description": "Kubernetes operator for MCP servers, from a CEL-templated resource graph",
		"org.opencontainers.image.version":     "v0.1.0",
		"org.opencontainers.image.revision":    "0123abcd",
		"org.opencontainers.image.created":     "2023-11-14T22:13:20Z",
		"org.opencontainers.image.source":      "https://example.com/loom",
		"org.opencontainers.image.licenses":    "Apache-2.0",
	}, cf.Config.Labels)
	mt, err := img.MediaType()
	require.NoError(t, err)
	assert.Equal(t, "application/vnd.oci.image.manifest.v1+json", string(mt))

	files := map[string][]byte{}
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		assert.Equal(t, o.created, h.ModTime.UTC(), h.Name)
		assert.Zero(t, h.Uid, h.Name)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		files[h.Name] = data
	}
	assert.Equal(t, o.binary, files["loom"])
	assert.Contains(t, string(files["etc/passwd"]), "nonroot:x:65532:65532:")
	n := 0
	for rest := files["etc/ssl/certs/ca-certificates.crt"]; ; n++ {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		_, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
	}
	assert.Greater(t, n, 100, "the CA bundle holds the Mozilla roots")
}
