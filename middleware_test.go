package keycard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandlersThatWriteEarlyStillGetTheirCookie(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/early", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Put("a", "1")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte("body"))
	})
	f.mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Put("a", "1")
		w.(http.Flusher).Flush()
	})
	f.mux.HandleFunc("/copy", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Put("a", "1")
		io.Copy(w, strings.NewReader("copied"))
	})
	for _, p := range []string{"/early", "/flush", "/copy"} {
		c := f.client()
		c.get(p)
		if c.cookie == "" {
			t.Errorf("%s: no cookie", p)
		}
		if got := c.get("/get?k=a"); got != "1" {
			t.Errorf("%s: got %q, want 1", p, got)
		}
	}
}

func TestChangesAfterTheResponseStarted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		w.Write([]byte("hello"))
		if err := s.Put("late", "saved"); err != nil {
			t.Errorf("late Put on a stored session: %v", err)
		}
		if err := f.m.Renew(r.Context(), s); !errors.Is(err, ErrResponseStarted) {
			t.Errorf("late Renew: got %v, want ErrResponseStarted", err)
		}
	})
	f.mux.HandleFunc("/latenew", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello"))
		if err := FromContext(r.Context()).Put("a", "1"); !errors.Is(err, ErrResponseStarted) {
			t.Errorf("late Put on a new session: got %v, want ErrResponseStarted", err)
		}
	})
	c := f.client()
	c.get("/put?k=a&v=1")
	c.get("/late")
	if got := c.get("/get?k=late"); got != "saved" {
		t.Errorf("late change lost: got %q", got)
	}
	f.client().get("/latenew")
}

func TestOverARealServer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Put("a", "hijacked")
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		buf.Flush()
	})
	f.mux.HandleFunc("/deadline", func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("ResponseController does not reach the server's writer: %v", err)
		}
		FromContext(r.Context()).Put("a", "1")
	})
	ts := httptest.NewTLSServer(f.h)
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	cl := ts.Client()
	cl.Jar = jar
	get := func(p string) string {
		res, err := cl.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	get("/deadline")
	if got := get("/get?k=a"); got != "1" {
		t.Errorf("over TLS with a cookie jar: got %q, want 1", got)
	}
	// Hijack: the session is committed before the connection is taken, but
	// a hijacked response carries no headers of ours; check the store.
	r, _ := http.NewRequest("GET", ts.URL+"/hijack", nil)
	res, err := cl.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if f.st.saves.Load() < 2 {
		t.Error("the hijacking handler's session was not saved")
	}
}

func TestDefaultLogsNeverContainIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t, Config{OnEvent: nil, Logger: logger})
	f.m.cfg.OnEvent = f.m.logEvent
	c := f.client()
	c.get("/put?k=a&v=1")
	first := c.cookie
	c.get("/login?u=alice")
	second := c.cookie
	c.get("/logout")
	(&client{f: f, cookie: second}).get("/get?k=a")
	(&client{f: f, cookie: first[:40] + "AAAA" + first[44:]}).get("/get?k=a")
	f.st.fail.Store(true)
	(&client{f: f, cookie: first}).get("/get?k=a")
	out := buf.String()
	for _, v := range []string{first, second} {
		id, _ := f.m.ids.verify(v)
		for _, secret := range []string{v, string(id[:]), b64.EncodeToString(id[:]), v[:20]} {
			if strings.Contains(out, secret) {
				t.Errorf("log contains a session secret %q", secret)
			}
		}
		if strings.Contains(out, id.hash()) {
			t.Error("log contains a whole session hash (a store key)")
		}
	}
	for _, want := range []string{"event=created", "event=renewed", "event=destroyed", "reason=unknown-id", "reason=bad-mac", "session unavailable"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestKeysCannotBePrinted(t *testing.T) {
	t.Parallel()
	k := testKey(1)
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("k", "key", k)
	for _, out := range []string{fmt.Sprint(k), fmt.Sprintf("%v %s %#v", k, k, k), b.String()} {
		if !strings.Contains(out, "[REDACTED]") || strings.Contains(out, "\x01") || strings.Contains(out, "1 2 3") {
			t.Errorf("a Key printed as %q", out)
		}
	}
}
