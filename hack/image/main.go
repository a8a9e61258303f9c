// Command image owns building loom's container image without a container daemon (make image): one
// layer on an empty base holding the static loom binary, the Mozilla root certificates of
// golang.org/x/crypto/x509roots/fallback (pinned in go.mod, so the layer does not depend on
// the build machine) and a passwd entry for the non-root user 65532; a config that runs
// `loom operator` as that user, with org.opencontainers.image.* labels. Every timestamp is
// the commit's time and every file's owner is root: the same commit and toolchain give the
// same digest. It writes an OCI layout and a docker-style tarball (crane push takes either)
// and prints the image's digest.
//
// It may import go-containerregistry and the pinned root certificates, nothing of loom;
// nothing the loom binary links imports it.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// options say what goes into the image.
type options struct {
	binary   []byte    // the static loom binary for linux/Arch
	arch     string    // GOARCH of the binary
	version  string    // release version, a label and the tarball's tag
	commit   string    // full commit, a label
	created  time.Time // the commit's time: every timestamp in the image
	source   string    // the repository, a label
	licenses string    // SPDX expression, a label
}

// The user the image runs as: the conventional "nonroot" of distroless images.
const uid = 65532

func main() {
	var (
		bin, arch, ver, commit, repo, source, layoutDir, tarPath string
		epoch                                                    int64
	)
	flag.StringVar(&bin, "binary", "", "the static loom binary (CGO_ENABLED=0, -trimpath)")
	flag.StringVar(&arch, "arch", "amd64", "its GOARCH")
	flag.StringVar(&ver, "version", "", "the version it was stamped with")
	flag.StringVar(&commit, "commit", "", "the commit it was built from")
	flag.Int64Var(&epoch, "created", 0, "the commit's time, Unix seconds (SOURCE_DATE_EPOCH)")
	flag.StringVar(&repo, "repo", "ghcr.io/loom-mcp/loom", "the image repository, for the tarball's tag and the layout's ref name")
	flag.StringVar(&source, "source", "https://github.com/loom-mcp/loom", "org.opencontainers.image.source")
	flag.StringVar(&layoutDir, "layout", "", "write an OCI image layout to this directory (replaced)")
	flag.StringVar(&tarPath, "tarball", "", "write a docker-style image tarball to this file")
	flag.Parse()
	if err := run(bin, arch, ver, commit, repo, source, layoutDir, tarPath, epoch); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(bin, arch, ver, commit, repo, source, layoutDir, tarPath string, epoch int64) error {
	if bin == "" || ver == "" || commit == "" || epoch == 0 {
		return fmt.Errorf("-binary, -version, -commit and -created are required")
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	img, err := build(options{binary: data, arch: arch, version: ver, commit: commit,
		created: time.Unix(epoch, 0).UTC(), source: source, licenses: "Apache-2.0"})
	if err != nil {
		return err
	}
	tag, err := name.NewTag(repo + ":" + ver)
	if err != nil {
		return fmt.Errorf("-repo %q, -version %q: %w", repo, ver, err)
	}
	if layoutDir != "" {
		if err := os.RemoveAll(layoutDir); err != nil {
			return err
		}
		p, err := layout.Write(layoutDir, empty.Index)
		if err != nil {
			return err
		}
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag.String()})); err != nil {
			return err
		}
	}
	if tarPath != "" {
		if err := os.MkdirAll(filepath.Dir(tarPath), 0o755); err != nil {
			return err
		}
		if err := tarball.WriteToFile(tarPath, tag, img); err != nil {
			return err
		}
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Println(digest)
	return nil
}

// build assembles the image. It reads no clock and no file: its output is a function of o.
func build(o options) (v1.Image, error) {
	files, err := rootfs(o)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(files)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: o.created}, CreatedBy: "hack/image", Comment: "loom " + o.version},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = o.arch, "linux"
	cf.Created = v1.Time{Time: o.created}
	cf.Config.User = strconv.Itoa(uid) + ":" + strconv.Itoa(uid)
	cf.Config.Entrypoint = []string{"/loom"}
	cf.Config.Cmd = []string{"operator"}
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "loom",
		"org.opencontainers.image.description": "Kubernetes operator for MCP servers, from a CEL-templated resource graph",
		"org.opencontainers.image.version":     o.version,
		"org.opencontainers.image.revision":    o.commit,
		"org.opencontainers.image.created":     o.created.Format(time.RFC3339),
		"org.opencontainers.image.source":      o.source,
		"org.opencontainers.image.licenses":    o.licenses,
	}
	return mutate.ConfigFile(img, cf)
}

// rootfs is the layer's tar: directories first, then files, in a fixed order, each owned
// by root and stamped with o.created.
func rootfs(o options) ([]byte, error) {
	certs, err := caBundle()
	if err != nil {
		return nil, err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", uid, uid)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", uid)
	entries := []struct {
		path string
		mode int64
		data []byte // nil: a directory
	}{
		{"etc/", 0o755, nil},
		{"etc/group", 0o644, []byte(group)},
		{"etc/passwd", 0o644, []byte(passwd)},
		{"etc/ssl/", 0o755, nil},
		{"etc/ssl/certs/", 0o755, nil},
		{"etc/ssl/certs/ca-certificates.crt", 0o644, certs},
		{"loom", 0o755, o.binary},
		{"tmp/", 0o1777, nil},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.path, Mode: e.mode, ModTime: o.created, Format: tar.FormatPAX}
		if e.data == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// caBundle is the PEM bundle of the unconstrained roots of x509roots/fallback. Roots that
// carry a distrust-after constraint are left out: a PEM file cannot say it, and trusting
// them without it would trust more than Mozilla does.
func caBundle() ([]byte, error) {
	var buf bytes.Buffer
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate}); err != nil {
			return nil, err
		}
	}
	if buf.Len() == 0 {
		return nil, fmt.Errorf("x509roots/fallback has no roots")
	}
	return buf.Bytes(), nil
}
