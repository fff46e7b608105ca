package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard"
)

// server is the quickstart program running as a child process.
type server struct {
	cmd *exec.Cmd
	url string
}

// start runs the built program on a free loopback port and waits for the
// line that says where it listens.
func start(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd}
	t.Cleanup(s.stop)
	listening := regexp.MustCompile(`listening on (http://\S+)`)
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			s.url = m[1]
			go io.Copy(io.Discard, stderr)
			return s
		}
		t.Logf("quickstart: %s", lines.Text())
	}
	t.Fatalf("the server stopped before it listened: %v", cmd.Wait())
	return nil
}

// stop kills the server, as a crash or a deploy would.
func (s *server) stop() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// TestRestartKeepsUsersSignedIn signs in, kills the server, starts it
// again on the same key file and database, and finds the user still
// signed in: the point of loading keys from a file.
func TestRestartKeepsUsersSignedIn(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "quickstart")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	keys := &keycard.KeyFile{Session: []keycard.Key{keycard.NewKey()}}
	text, err := keys.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	keyFile, db := filepath.Join(dir, "app.keys"), filepath.Join(dir, "sessions.db")
	if err := os.WriteFile(keyFile, text, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-keys", keyFile, "-db", db}
	client := &http.Client{
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	first := start(t, bin, args...)
	res, err := client.PostForm(first.url+"/login", url.Values{"user": {"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || len(res.Cookies()) != 1 {
		t.Fatalf("login: %s with %d cookies", res.Status, len(res.Cookies()))
	}
	cookie := res.Cookies()[0]
	whoami := func(s *server) string {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), "GET", s.url+"/", nil)
		req.AddCookie(cookie)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return strings.TrimSpace(string(body))
	}
	if got := whoami(first); got != `signed in as "alice"` {
		t.Fatalf("before the restart: %s", got)
	}
	first.stop()

	second := start(t, bin, args...)
	if got := whoami(second); got != `signed in as "alice"` {
		t.Errorf("after the restart: %s, want alice still signed in", got)
	}
	second.stop()

	// A key file that others can read is refused: the program does not
	// start with keys that may have leaked.
	os.Chmod(keyFile, 0o644)
	out, err := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "readable by others") {
		t.Errorf("with a key file others can read: %v\n%s", err, out)
	}
}
