package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// child is a server running as a separate process, so that it does not
// share a Go runtime (scheduler, garbage collector) with the load
// generator; on two cores they still compete for CPU, as a gateway and
// latchkey would.
type child struct {
	name string
	cmd  *exec.Cmd
	URL  string // http://127.0.0.1:PORT
	log  string // the file holding its stderr
	// done is closed when the process has exited, with its error in err.
	done chan struct{}
	err  error
}

// Addr is the child's HOST:PORT.
func (c *child) Addr() string { return strings.TrimPrefix(c.URL, "http://") }

// start runs bin with args, its stderr in dir/name.log, and waits until it
// prints "listening on http://..." on stdout and answers readyPath.
func start(ctx context.Context, dir, name, bin, readyPath string, args ...string) (*child, error) {
	bin, args = pinned(serverCPUs, bin, args)
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "listening on "); ok {
				select {
				case found <- strings.TrimSpace(u):
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() {
		c.err = cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	select {
	case u := <-found:
		if !strings.HasPrefix(u, "http://") {
			u = "http://" + u
		}
		c.URL = u
	case <-c.done:
		return nil, fmt.Errorf("%s exited before listening (%v); see %s", name, c.err, logPath)
	case <-time.After(30 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s did not listen within 30s; see %s", name, logPath)
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(c.URL + readyPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("%s not ready at %s within 15s; see %s", name, readyPath, logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM (latchkey drains requests and flushes usage), then
// kills the child if it has not exited within 10 seconds. Stopping a
// stopped child does nothing.
func (c *child) stop() {
	if c == nil || c.cmd.Process == nil {
		return
	}
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// serverCPUs is -server-cpus: every server child runs there.
var serverCPUs string

// freeAddr returns a loopback address that was free a moment ago, for
// listeners whose address must be chosen before the child starts (pprof).
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// build compiles the module's package pkg into out, from the module root.
func build(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// moduleRoot finds the directory of go.mod, so that `go run ./bench` works
// from the root and the harness also runs from elsewhere in the module.
func moduleRoot(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(b))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the latchkey module")
	}
	return filepath.Dir(mod), nil
}
