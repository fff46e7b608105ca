package attack

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// forms returns the encodings in which a secret could show up in text.
func forms(b []byte) []string {
	return []string{
		string(b),
		hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
	}
}

// window is how many trailing bytes of a secret's form index it. Every
// secret of the run ends in random bytes (a MAC, a signature, a random
// ID), so its last 16 bytes name it alone; a hit is then confirmed whole.
const window = 16

// needle is one form of one secret.
type needle struct {
	form string
	sec  *secret
}

// leak is a secret found where it must not be.
type leak struct {
	what, where string
}

// sweep returns the secrets found in text; origin is the response whose
// body text is (0 for logs): a secret that response legitimately carried
// is allowed there.
func sweep(index map[string][]needle, text string, origin int64, where string) []leak {
	var found []leak
	for i := window; i <= len(text); i++ {
		ns, ok := index[text[i-window:i]]
		if !ok {
			continue
		}
		for _, n := range ns {
			if i >= len(n.form) && text[i-len(n.form):i] == n.form && !n.sec.origins[origin] {
				found = append(found, leak{n.sec.what, where})
			}
		}
	}
	return found
}

// TestSecretLeakSweep is attack scenario 16 (S-64, S-07): it runs last,
// over every log line (the apps' loggers, the event logs, the servers'
// error logs) and every response body of the whole run, and looks for
// every credential and key the run produced, in raw, hex and base64
// forms: session cookies and IDs (from every Set-Cookie), CSRF tokens and
// their unmasked secrets, access and refresh tokens, passwords, session,
// refresh and JWT signing keys. Logs must hold none of them, and bodies
// none but the one that delivered a token to its client (a CSRF token in
// its form page, a token pair in its login or refresh response); a
// session cookie or CSRF secret may appear in no body at all. Logs must
// also hold no "Bearer ey" (an Authorization header).
func TestSecretLeakSweep(t *testing.T) {
	run.mu.Lock()
	defer run.mu.Unlock()
	if len(run.bodies) < 200 || run.setCookies < 100 {
		t.Skipf("only %d responses and %d Set-Cookie lines seen; run the whole suite for the sweep", len(run.bodies), run.setCookies)
	}
	index := map[string][]needle{}
	kinds := map[string]int{}
	for _, s := range run.secrets {
		kinds[s.what]++
		for _, f := range forms(s.value) {
			if len(f) >= window {
				k := f[len(f)-window:]
				index[k] = append(index[k], needle{f, s})
			}
		}
	}
	for _, want := range []string{"session cookie", "session ID", "CSRF token", "CSRF secret", "access_token", "refresh_token", "password", "session key", "refresh key", "JWT signing key"} {
		if kinds[want] == 0 {
			t.Errorf("the run produced no %s to look for", want)
		}
	}
	logs := run.logs.String()
	var leaks []leak
	leaks = append(leaks, sweep(index, logs, 0, "logs")...)
	for _, b := range run.bodies {
		leaks = append(leaks, sweep(index, b.text, b.id, fmt.Sprintf("the body of response %d (%s)", b.id, b.url))...)
	}
	for _, l := range leaks {
		t.Errorf("a %s in %s", l.what, l.where)
	}
	if strings.Contains(logs, "Bearer ey") {
		t.Error("the logs hold an Authorization header")
	}
	t.Logf("swept %d bytes of logs and %d bodies for %d secrets (%v); %d Set-Cookie lines checked", len(logs), len(run.bodies), len(run.secrets), kinds, run.setCookies)
}
