package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// syncBuffer is a buffer the logger's goroutines write while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr is a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// server is the program serving in the background.
type server struct {
	addr   string
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan int
	once   sync.Once
	code   int
}

// startServe runs the program with args until the test stops it; it
// serves on addr.
func startServe(t *testing.T, addr string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{addr: addr, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() { s.done <- run(ctx, args, io.Discard, s.stderr, fixedNow) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop cancels the program's context and returns its exit code.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	s.once.Do(func() {
		s.cancel()
		select {
		case s.code = <-s.done:
		case <-time.After(15 * time.Second):
			t.Fatalf("the program did not return after its context ended; log:\n%s", s.stderr)
		}
	})
	return s.code
}

// get sends a GET with optional basic-auth credentials.
func (s *server) get(t *testing.T, path, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// waitReady waits, a bounded time, until /-/ready answers 200.
func (s *server) waitReady(t *testing.T, user, password string) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case code := <-s.done:
			t.Fatalf("the program exited with %d before it was ready; log:\n%s", code, s.stderr)
		default:
		}
		req, err := http.NewRequest(http.MethodGet, "http://"+s.addr+"/-/ready", nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready on %s in time; log:\n%s", s.addr, s.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The program serves the metrics of its configuration and shuts down
// cleanly when its context ends.
func TestServe(t *testing.T) {
	addr := freeAddr(t)
	s := startServe(t, addr, "--web.listen-address="+addr, "--config.file=testdata/config.yml")
	s.waitReady(t, "", "")
	code, body := s.get(t, "/metrics", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", code, body)
	}
	for _, want := range []string{"support_sla_targets{", "support_sla_exporter_build_info{", `support_sla_source_up{source="helpdesk"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %s", want)
		}
	}
	if code, body := s.get(t, "/-/healthy", "", ""); code != http.StatusOK {
		t.Errorf("GET /-/healthy: %d %q", code, body)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d after the context ended, want 0; log:\n%s", code, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), "Shutting down") {
		t.Errorf("no shutdown in the log:\n%s", s.stderr)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Errorf("%s still accepts connections after the program returned", addr)
	}
}

// A web configuration file turns on basic authentication; the password
// never reaches the log.
func TestServeBasicAuth(t *testing.T) {
	password := "pw-" + rand.Text()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(webConfig, []byte("basic_auth_users:\n  admin: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	s := startServe(t, addr, "--web.listen-address="+addr, "--web.config.file="+webConfig,
		"--config.file=testdata/config.yml", "--log.level=debug")
	s.waitReady(t, "admin", password)
	for _, tc := range []struct {
		name, user, password string
		want                 int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"a wrong password", "admin", password + "x", http.StatusUnauthorized},
		{"an unknown user", "root", password, http.StatusUnauthorized},
		{"the right password", "admin", password, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := s.get(t, "/metrics", tc.user, tc.password)
			if code != tc.want {
				t.Errorf("GET /metrics: %d, want %d", code, tc.want)
			}
			if code == http.StatusOK && !strings.Contains(body, "support_sla_targets{") {
				t.Errorf("GET /metrics lacks support_sla_targets")
			}
		})
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d, want 0; log:\n%s", code, s.stderr)
	}
	log := s.stderr.String()
	if !strings.Contains(log, "Listening on") {
		t.Fatalf("the log is not the server's:\n%s", log)
	}
	for _, secret := range []string{password, base64.StdEncoding.EncodeToString([]byte("admin:" + password))} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds the password (%s):\n%s", secret, log)
		}
	}
}

// SUPPORT_SLA_LISTEN_ADDRESS sets the address; the flag wins over it.
func TestServeListenAddressFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name string
		flag bool
	}{
		{"the environment alone", false},
		{"the flag wins", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, flag := freeAddr(t), freeAddr(t)
			t.Setenv("SUPPORT_SLA_LISTEN_ADDRESS", env)
			args, want, notWant := []string{"--config.file=testdata/config.yml"}, env, flag
			if tc.flag {
				args, want, notWant = append(args, "--web.listen-address="+flag), flag, env
			}
			s := startServe(t, want, args...)
			s.waitReady(t, "", "")
			if code := s.stop(t); code != 0 {
				t.Errorf("exit %d, want 0; log:\n%s", code, s.stderr)
			}
			log := s.stderr.String()
			if !strings.Contains(log, "address="+want) || strings.Contains(log, "address="+notWant) {
				t.Errorf("want it listening on %s only:\n%s", want, log)
			}
		})
	}
}
