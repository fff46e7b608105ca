package demo

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keycard-go/keycard/store"
)

// stream opens the live page's event stream as the client's EventSource
// would, and returns the response with its body unread.
func (c *client) stream() *http.Response {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+"/devices/events", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// readEvents sends the stream's named events to a channel, which closes
// when the server ends the stream.
func readEvents(body *bufio.Scanner) <-chan sseEvent {
	ch := make(chan sseEvent)
	go func() {
		defer close(ch)
		var ev sseEvent
		for body.Scan() {
			line := body.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

// #19: the live page's stream lists the user's sessions and is closed by
// the server, after an "ended" event, when another device revokes its
// session; a stream without a signed-in session is refused. The only
// bound on "promptly" is the client's one-minute timeout: a revoke on the
// same instance ends the Watch at once, with no store check to wait for.
func TestLiveStreamEndsWithItsSession(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		srv := newServer(t, st)
		laptop, phone := newClient(t, srv.URL), newClient(t, srv.URL)
		phone.ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1"

		if resp := newClient(t, srv.URL).stream(); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("an anonymous stream: status %d, want 401", resp.StatusCode)
		}

		laptop.login("alice", "alice-wonderland", false)
		phone.login("alice", "alice-wonderland", false)
		resp, body := laptop.get("/devices/live")
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, body, `<script src="/static/live.js"></script>`, "Live devices")
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("live page's Content-Security-Policy %q", csp)
		}
		laptopHash := hashOf(body)

		resp = laptop.stream()
		wantStatus(t, resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("stream's Content-Type %q", ct)
		}
		events := readEvents(bufio.NewScanner(resp.Body))
		first := <-events
		var sessions []liveSession
		if err := json.Unmarshal([]byte(first.data), &sessions); first.name != "sessions" || err != nil || len(sessions) != 2 {
			t.Fatalf("first event %q %s: want alice's 2 sessions (%v)", first.name, first.data, err)
		}
		for _, s := range sessions {
			if s.Current != (s.Hash == laptopHash) {
				t.Errorf("session %s marked current %v; the laptop's is %s", s.Hash, s.Current, laptopHash)
			}
		}
		_, body = phone.get("/devices")
		var laptopFull string
		for _, h := range sessionField.FindAllStringSubmatch(body, -1) {
			if strings.HasPrefix(h[1], laptopHash) {
				laptopFull = h[1]
			}
		}
		if laptopFull == "" {
			t.Fatalf("the laptop's session %s is not on the phone's devices page", laptopHash)
		}
		resp, _ = phone.submit("/devices", "/devices/revoke", url.Values{"session": {laptopFull}})
		wantStatus(t, resp, http.StatusSeeOther)

		var got []string
		for ev := range events { // until the server closes the stream
			got = append(got, ev.name)
		}
		if len(got) == 0 || got[len(got)-1] != "ended" {
			t.Errorf("events after the revoke: %q, want the stream to end with \"ended\"", got)
		}
		if resp := laptop.stream(); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("reopening the stream after the revoke: status %d, want 401", resp.StatusCode)
		}

		// Signing out in another tab of the same browser ends it too.
		laptop.login("alice", "alice-wonderland", false)
		events = readEvents(bufio.NewScanner(laptop.stream().Body))
		<-events
		laptop.submit("/", "/logout", nil)
		got = nil
		for ev := range events {
			got = append(got, ev.name)
		}
		if len(got) == 0 || got[len(got)-1] != "ended" {
			t.Errorf("events after signing out: %q, want the stream to end with \"ended\"", got)
		}
	})
}
