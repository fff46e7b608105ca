package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
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

var bannerURL = regexp.MustCompile(`Keycard demo: (https?://\S+)`)

// startDemo runs "keycard demo" with args on a free port of 127.0.0.1 and
// returns its URL, its banner, and a function that stops it and returns
// its exit code.
func startDemo(t *testing.T, args ...string) (base, banner string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"demo", "--addr", "127.0.0.1:0"}, args...), &stdout, &stderr)
	}()
	stop = sync.OnceValue(func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(time.Minute): // a guard: it stops in milliseconds
			t.Error("the demo did not stop within a minute")
			return -1
		}
	})
	deadline := time.Now().Add(time.Minute) // a guard: it starts within a second, even loaded
	for time.Now().Before(deadline) {
		if m := bannerURL.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stdout.String(), stop
		}
		select {
		case code := <-done:
			t.Fatalf("the demo exited with %d:\n%s%s", code, stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	t.Fatalf("the demo did not start within a minute:\n%s%s", stdout.String(), stderr.String())
	return "", "", nil
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfField = regexp.MustCompile(`action="/cart/add">\s*<input type="hidden" name="csrf_token" value="([^"]+)"`)

func TestDemoKeepsSessionsAcrossRestarts(t *testing.T) {
	t.Setenv("KEYCARD_STORE", "")
	t.Setenv("KEYCARD_KEYS_FILE", "")
	data := t.TempDir()
	base, banner, stop := startDemo(t, "--data", data)
	for _, want := range []string{"store  sqlite:" + filepath.Join(data, "keycard-demo.db"), "keycard-demo.keys (new; keep it secret)", "Sign in as alice, bob or support"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	fi, err := os.Stat(filepath.Join(data, "keycard-demo.keys"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	_, body := get(t, c, base+"/")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no cart form on the home page:\n%s", body)
	}
	req, _ := http.NewRequest("POST", base+"/cart/add", strings.NewReader(url.Values{"product": {"croissant"}, "csrf_token": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code := stop(); code != 0 {
		t.Fatalf("the demo exited with %d, want 0", code)
	}

	// The same data directory: the same keys and store, so the cookie
	// still names the session and its cart.
	base2, banner, stop := startDemo(t, "--data", data)
	defer stop()
	if strings.Contains(banner, "(new") {
		t.Errorf("the second run made new keys:\n%s", banner)
	}
	u1, _ := url.Parse(base)
	u2, _ := url.Parse(base2)
	jar.SetCookies(u2, jar.Cookies(u1)) // the port changed
	_, body = get(t, c, base2+"/")
	if !strings.Contains(body, "1 × Croissant") {
		t.Errorf("the cart did not survive a restart:\n%s", body)
	}
}

// F3: the demo's SQLite database and its -wal and -shm files are readable
// by their owner alone, in a data directory that already exists, and also
// when an earlier run left them readable by others.
func TestDemoDatabaseFilesArePrivate(t *testing.T) {
	t.Setenv("KEYCARD_STORE", "")
	t.Setenv("KEYCARD_KEYS_FILE", "")
	for _, earlier := range []bool{false, true} {
		data := t.TempDir() // exists before the demo starts
		db := filepath.Join(data, "keycard-demo.db")
		if earlier {
			for _, p := range []string{db, db + "-wal", db + "-shm"} {
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				os.Chmod(p, 0o644) // whatever the umask
			}
		}
		base, _, stop := startDemo(t, "--data", data)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: time.Minute}
		_, body := get(t, c, base+"/")
		m := csrfField.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no cart form on the home page:\n%s", body)
		}
		resp, err := c.PostForm(base+"/cart/add", url.Values{"product": {"tea"}, "csrf_token": {m[1]}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, p := range []string{db, db + "-wal", db + "-shm"} {
			fi, err := os.Stat(p) // while the demo has the database open
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("earlier files %v: %s has mode %v, want 0600", earlier, filepath.Base(p), fi.Mode().Perm())
			}
		}
		if code := stop(); code != 0 {
			t.Fatalf("the demo exited with %d, want 0", code)
		}
	}
}

func TestDemoTLS(t *testing.T) {
	t.Setenv("KEYCARD_STORE", "memory:")
	data := t.TempDir()
	base, banner, stop := startDemo(t, "--data", data, "--tls")
	defer stop()
	if !strings.HasPrefix(base, "https://127.0.0.1:") || !strings.Contains(banner, "keycard-demo-tls.pem (new, self-signed") {
		t.Fatalf("banner:\n%s", banner)
	}
	pemData, err := os.ReadFile(filepath.Join(data, "keycard-demo-tls.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemData) {
		t.Fatal("no certificate in keycard-demo-tls.pem")
	}
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	for _, host := range []string{base, strings.Replace(base, "127.0.0.1", "localhost", 1)} {
		resp, _ := get(t, c, host+"/login")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s/login: %d", host, resp.StatusCode)
		}
		if hsts := resp.Header.Get("Strict-Transport-Security"); hsts == "" {
			t.Errorf("%s: no Strict-Transport-Security", host)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	_, banner, stop2 := startDemo(t, "--data", data, "--tls")
	defer stop2()
	if strings.Contains(banner, "(new,") {
		t.Errorf("the second run made a new certificate:\n%s", banner)
	}
}
