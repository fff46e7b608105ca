package demo

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/keycard-go/keycard"
)

// The live devices page keeps a server-sent events stream open for as long
// as its session lives, through keycard's Manager.Watch: the stream ends,
// from the server, as soon as the session does (here: sign-out, a revoke
// from another device, log out everywhere; elsewhere or by expiry within
// watchEvery). It is the one page of the demo with a script.
const (
	// liveRefresh is how often an open stream lists the user's sessions
	// again (one user-index call), sending them only when they changed,
	// and otherwise a comment that keeps proxies from closing it.
	liveRefresh = 5 * time.Second
	// liveWriteTimeout bounds each write of a stream, in place of the
	// server's WriteTimeout, which would cut every stream short.
	liveWriteTimeout = 30 * time.Second
)

// liveCSP is the live page's Content-Security-Policy: the demo's, with
// the page's own script and its connection to the stream allowed.
const liveCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// livePage serves the live devices page; its script (static/live.js)
// opens /devices/events.
func (a *App) livePage(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	if a.requireUser(w, r, s) == nil {
		return
	}
	v := a.newView(r, s, "Live devices", "devices")
	v.Data = struct{ Refresh, WatchEvery time.Duration }{liveRefresh, watchEvery}
	w.Header().Set("Content-Security-Policy", liveCSP)
	a.render(w, r, http.StatusOK, "live", v)
}

// liveSession is one session as the stream lists it.
type liveSession struct {
	Device  string `json:"device"`
	Hash    string `json:"hash"` // the first 12 hex digits
	IP      string `json:"ip"`
	Current bool   `json:"current"`
}

// liveEvents streams the signed-in user's sessions as server-sent events
// ("sessions", a JSON list, whenever it changes) until the session ends,
// when it sends "ended" and closes the stream. A request without a stored,
// signed-in session gets 401, which an EventSource does not retry.
func (a *App) liveEvents(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	u := a.userOf(s.UserID())
	if s.Err() != nil {
		return // the Manager answers with its error handler
	}
	if u == nil {
		http.Error(w, "Sign in first.", http.StatusUnauthorized)
		return
	}
	watch, err := a.m.Watch(s)
	if err != nil {
		http.Error(w, "Sign in first.", http.StatusUnauthorized)
		return
	}
	defer watch.Stop()

	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{}) // the server's ReadTimeout would end the request
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	send := func(format string, args ...any) bool {
		rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	current, last := s.Info().Hash, ""
	list := func() bool {
		infos, err := a.m.Sessions(r.Context(), u.ID)
		if err != nil {
			return send(": the session store is unavailable\n\n")
		}
		slices.SortStableFunc(infos, func(x, y keycard.SessionInfo) int {
			return cmp.Or(x.Created.Compare(y.Created), x.AuthTime.Compare(y.AuthTime))
		})
		out := make([]liveSession, len(infos))
		for i, in := range infos {
			out[i] = liveSession{Device: device(in.UserAgent), Hash: short(in.Hash), IP: in.IP, Current: subtle.ConstantTimeCompare([]byte(in.Hash), []byte(current)) == 1}
		}
		data, _ := json.Marshal(out)
		if string(data) == last {
			return send(": unchanged\n\n")
		}
		last = string(data)
		return send("event: sessions\ndata: %s\n\n", data)
	}
	if !send("retry: 10000\n\n") || !list() {
		return
	}
	tick := time.NewTicker(liveRefresh)
	defer tick.Stop()
	for {
		select {
		case <-watch.Done():
			send("event: ended\ndata: %s\n\n", "This session ended: signed out here, revoked from another device, or expired. The server closed this stream.")
			return
		case <-a.quit:
			return
		case <-r.Context().Done():
			return // the page was closed
		case <-tick.C:
			if !list() {
				return
			}
		}
	}
}
