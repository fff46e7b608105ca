package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// Alice signs in on two browsers. A opens the live devices page, whose
// stream (server-sent events, held with keycard's Manager.Watch) lists her
// sessions; B revokes A's session from its devices page. The server
// closes A's stream with an "ended" event, and A's page shows it signed
// out without a reload. The only time bound is the step's one-minute
// timeout.
func TestLivePageEndsWhenRevokedElsewhere(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	a := newBrowser(t, d, "A")
	b := newBrowser(t, d, "B")
	a.login("alice", "alice-wonderland", "Alice Liddell", false)
	b.login("alice", "alice-wonderland", "Alice Liddell", false)

	a.openOK("/devices/live")
	a.do("wait for the stream's session list", chromedp.WaitReady(chromedp.CSS(`body[data-live="open"] #live-sessions tr.current`)))
	if rows := a.count("#live-sessions tr"); rows != 2 {
		t.Errorf("live page of A lists %d sessions, want 2", rows)
	}
	aHash := a.text("#live-sessions tr.current td:last-child")
	a.screenshot("live-devices")

	b.openOK("/devices")
	if h := b.text("table.devices tbody tr:not(.current) td code"); h != aHash {
		t.Fatalf("B's devices page shows the other session as %q; A's live page says it is %q", h, aHash)
	}
	b.submitOK("revoke A's session", `table.devices tbody tr:not(.current) form[action="/devices/revoke"] button`)
	if f := b.flashes(); !containsAny(f, "Signed out") {
		t.Errorf("B's flashes after revoking A: %q", f)
	}

	a.do("wait for the server to end A's stream", chromedp.WaitReady(chromedp.CSS(`body[data-live="ended"]`)))
	if s := a.text("#live-status"); !containsAny([]string{s}, "Signed out. This session ended") {
		t.Errorf("A's live page after the revoke says %q", s)
	}
	if p := a.path(); p != "/devices/live" {
		t.Errorf("A's page changed to %s; the stream's end should show on the live page itself", p)
	}
	a.screenshot("live-devices-ended")

	a.openOK("/")
	if u := a.user(); u != "" {
		t.Errorf("A after being revoked: signed in as %q, want anonymous", u)
	}
}
