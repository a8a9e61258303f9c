package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
)

// Faults for tests that show a client survives a control plane that misbehaves: Restart
// kills a component and starts it again; a FaultProxy between a client and kube-apiserver
// answers some requests with errors, resets others and delays some.

// Restart kills the component name (etcd, kube-apiserver or kwok) with SIGKILL, leaves it down
// for down, starts it again with the same flags and data, and returns once it serves again.
func (c *ControlPlane) Restart(ctx context.Context, name string, down time.Duration) error {
	i := c.componentIndex(name)
	if i < 0 {
		return fmt.Errorf("no component %q", name)
	}
	ready, err := c.readyCheck(name)
	if err != nil {
		return err
	}
	old := c.components[i]
	_ = syscall.Kill(-old.pid, syscall.SIGKILL)
	select {
	case <-old.exited:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) survived SIGKILL", name, old.pid)
	}
	select {
	case <-time.After(down):
	case <-ctx.Done():
		return ctx.Err()
	}
	comp, err := c.respawn(i)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return waitFor(ctx, check{comp, ready})
}

// respawn starts the component at index i of c.components again, with the same flags and
// data, in its place.
func (c *ControlPlane) respawn(i int) (*component, error) {
	old := c.components[i]
	comp, err := startComponent(c.Dir, old.binDir, old.name, old.args...)
	if err != nil {
		return nil, err
	}
	c.watchdog.watch(comp.pid)
	c.components[i] = comp
	return comp, c.writeState()
}

func (c *ControlPlane) componentIndex(name string) int {
	for i, comp := range c.components {
		if comp.name == name {
			return i
		}
	}
	return -1
}

// readyCheck is how Restart knows the component serves again.
func (c *ControlPlane) readyCheck(name string) (func(context.Context) error, error) {
	switch name {
	case "etcd":
		comp := c.components[c.componentIndex(name)]
		for i, a := range comp.args {
			if a == "--listen-client-urls" && i+1 < len(comp.args) {
				return httpCheck(comp.args[i+1]+"/health", nil), nil
			}
		}
		return nil, errors.New("etcd was started without --listen-client-urls")
	case "kube-apiserver":
		cs, err := newClient(c.admin)
		if err != nil {
			return nil, err
		}
		return apiserverReady(cs), nil
	case "kwok":
		comp := c.components[c.componentIndex(name)]
		for i, a := range comp.args {
			if a == "--server-address" && i+1 < len(comp.args) {
				return httpCheck("http://"+comp.args[i+1]+"/healthz", nil), nil
			}
		}
		return nil, errors.New("kwok was started without --server-address")
	}
	return nil, fmt.Errorf("restarting %s is not supported (etcd, kube-apiserver, kwok)", name)
}

// FaultRates say what share (0 to 1) of requests a FaultProxy spoils, each drawn on its own.
type FaultRates struct {
	// Throttle: answered 429 Too Many Requests, without a Retry-After, so the client's
	// caller sees the error.
	Throttle float64
	// Internal: answered 500 Internal Server Error.
	Internal float64
	// Reset: the stream (HTTP/2) or connection (HTTP/1) is reset before any answer.
	Reset float64
	// Spike: delayed by Latency before being passed on.
	Spike   float64
	Latency time.Duration
	// Seed makes the draws repeatable.
	Seed int64
}

// FaultProxy is an HTTPS reverse proxy on 127.0.0.1 in front of kube-apiserver, serving
// kube-apiserver's certificate, that spoils requests at the rates it was given. Requests
// it passes on reach kube-apiserver with their credentials unchanged.
type FaultProxy struct {
	// URL is the proxy's address, https://127.0.0.1:<port>.
	URL    string
	rates  FaultRates
	server *http.Server

	mu  sync.Mutex
	rng *rand.Rand

	passed, throttled, internal, reset, delayed atomic.Int64
}

// StartFaultProxy starts a FaultProxy in front of c's kube-apiserver. It runs until Close.
func (c *ControlPlane) StartFaultProxy(rates FaultRates) (*FaultProxy, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(c.Dir, "apiserver.crt"), filepath.Join(c.Dir, "apiserver.key"))
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(filepath.Join(c.Dir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	upstream, err := url.Parse(c.Server)
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	transport.ForceAttemptHTTP2 = true
	rp := httputil.NewSingleHostReverseProxy(upstream)
	rp.Transport = transport
	rp.FlushInterval = -1                    // watches stream
	rp.ErrorLog = log.New(io.Discard, "", 0) // a spoiled or cut request is the point, not news

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &FaultProxy{URL: "https://" + ln.Addr().String(), rates: rates, rng: rand.New(rand.NewSource(rates.Seed))}
	p.server = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, rp) }),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = p.server.ServeTLS(ln, "", "") }()
	return p, nil
}

// Config returns cfg aimed at the proxy instead of kube-apiserver.
func (p *FaultProxy) Config(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Host = p.URL
	return cfg
}

// Counts says how many requests the proxy passed on and how many it spoiled, by fault.
func (p *FaultProxy) Counts() map[string]int64 {
	return map[string]int64{
		"passed": p.passed.Load(), "429": p.throttled.Load(), "500": p.internal.Load(),
		"reset": p.reset.Load(), "delayed": p.delayed.Load(),
	}
}

// Close stops the proxy and ends every connection through it.
func (p *FaultProxy) Close() error { return p.server.Close() }

func (p *FaultProxy) draw(rate float64) bool {
	if rate <= 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64() < rate
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if p.draw(p.rates.Spike) {
		p.delayed.Add(1)
		select {
		case <-time.After(p.rates.Latency):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case p.draw(p.rates.Reset):
		p.reset.Add(1)
		panic(http.ErrAbortHandler) // the server resets the stream or closes the connection
	case p.draw(p.rates.Throttle):
		p.throttled.Add(1)
		status(w, http.StatusTooManyRequests, "TooManyRequests", "the fault proxy throttles this request")
	case p.draw(p.rates.Internal):
		p.internal.Add(1)
		status(w, http.StatusInternalServerError, "InternalError", "the fault proxy fails this request")
	default:
		p.passed.Add(1)
		next.ServeHTTP(w, r)
	}
}

// status answers with a metav1.Status, as kube-apiserver does.
func status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"reason":%q,"code":%d}`,
		msg, reason, code)
}
