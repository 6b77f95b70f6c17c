package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestContainerImageRunsAsNonRootWithoutAShell builds the Dockerfile's
// image stage with buildah (Debian's package) and runs it: the binary is
// static, the user is not root, there is no shell, and `serve` starts on an
// empty volume and prints the owner's one-time password.
//
// The build stage needs a Go base image from a registry, which may be out
// of reach (it is on the CI machine), so the test builds the binary on the
// host with the same flags and feeds the image stage, copied from the
// Dockerfile as written, with it. It skips without buildah, even under
// LATCHKEY_REQUIRE_ALL: images are not part of the CI run.
func TestContainerImageRunsAsNonRootWithoutAShell(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a container image")
	}
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Skip("buildah is not installed (apt-get install buildah); the image is not built")
	}
	root := t.TempDir()
	ctxDir := filepath.Join(root, "context")
	bin := filepath.Join(ctxDir, "out", "latchkey")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.buildTime=image-test", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(ctxDir, "out", "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Skipf("no CA bundle on the host to put in the image: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(ctxDir, "etc/ssl/certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "etc/ssl/certs/ca-certificates.crt"), certs, 0o644); err != nil {
		t.Fatal(err)
	}
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stage := string(df[strings.LastIndex(string(df), "\nFROM ")+1:])
	if !strings.HasPrefix(stage, "FROM scratch") {
		t.Fatalf("the Dockerfile's image stage starts %q, want FROM scratch", strings.SplitN(stage, "\n", 2)[0])
	}
	stage = strings.ReplaceAll(stage, "--from=build ", "") // sources are then read from the context
	if err := os.WriteFile(filepath.Join(ctxDir, "Containerfile"), []byte(stage), 0o644); err != nil {
		t.Fatal(err)
	}

	// Storage of its own, removed with the test: nothing left in the host's.
	buildah := func(args ...string) *exec.Cmd {
		return exec.Command("buildah", append([]string{"--root", filepath.Join(root, "storage"), "--runroot", filepath.Join(root, "run"), "--storage-driver", "vfs"}, args...)...)
	}
	t.Cleanup(func() { _ = buildah("rm", "--all").Run() })
	if out, err := buildah("build", "--isolation", "chroot", "-q", "-t", "latchkey-test", "-f", filepath.Join(ctxDir, "Containerfile"), ctxDir).CombinedOutput(); err != nil {
		t.Fatalf("buildah build: %v\n%s", err, out)
	}
	out, err := buildah("inspect", "--type", "image", "latchkey-test").Output()
	if err != nil {
		t.Fatalf("buildah inspect: %v", err)
	}
	var img struct {
		OCIv1 struct {
			Config struct {
				User       string
				Entrypoint []string
				Env        []string
			} `json:"config"`
		}
	}
	if err := json.Unmarshal(out, &img); err != nil {
		t.Fatal(err)
	}
	if u := img.OCIv1.Config.User; u == "" || strings.HasPrefix(u, "0") || strings.HasPrefix(u, "root") {
		t.Errorf("image user: got %q, want a non-root user", u)
	}
	ctr, err := buildah("from", "--name", "latchkey-test-ctr", "latchkey-test").Output()
	if err != nil {
		t.Fatalf("buildah from: %v", err)
	}
	name := strings.TrimSpace(string(ctr))
	runIn := func(args ...string) *exec.Cmd {
		return buildah(append([]string{"run", "--isolation", "chroot", name, "--"}, args...)...)
	}
	if out, err := runIn("/usr/local/bin/latchkey", "version").CombinedOutput(); err != nil || !strings.Contains(string(out), "built image-test") {
		t.Errorf("latchkey version in the image: %v, %q", err, out)
	}
	if err := runIn("/bin/sh", "-c", "true").Run(); err == nil {
		t.Errorf("/bin/sh ran in the image, want no shell")
	}

	// Serve on an empty volume, on the host's network (chroot isolation).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	serve := runIn("/usr/local/bin/latchkey", "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port), "--drain-delay", "0s")
	stdout, _ := serve.StdoutPipe()
	var stderr bytes.Buffer
	serve.Stderr = &stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- serve.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = serve.Process.Kill()
			<-done
		}
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var printed strings.Builder
	deadline := time.After(30 * time.Second)
	for !strings.Contains(printed.String(), "listening on") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve in the image stopped: stdout %q, stderr %q", printed.String(), stderr.String())
			}
			printed.WriteString(l + "\n")
		case <-deadline:
			t.Fatalf("serve in the image printed %q in 30s; stderr %q", printed.String(), stderr.String())
		}
	}
	if !regexp.MustCompile(`password:\s+\S+`).MatchString(printed.String()) {
		t.Errorf("serve on an empty volume printed %q, want the owner's one-time password", printed.String())
	}
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/readyz")
	if err != nil {
		t.Fatalf("/readyz of the server in the image: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz of the server in the image: got %d %q, want 200", resp.StatusCode, body)
	}
}
