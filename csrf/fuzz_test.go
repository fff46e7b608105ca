package csrf

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
)

// isTokenFor is the definition verify implements: tok is the canonical
// encoding of pad | pad XOR secret for some pad, which is exactly the set
// of strings mask(secret) can return.
func isTokenFor(secret []byte, tok string) bool {
	raw, err := b64.DecodeString(tok)
	if err != nil || len(raw) != 2*secretSize || b64.EncodeToString(raw) != tok {
		return false
	}
	got := make([]byte, secretSize)
	subtle.XORBytes(got, raw[:secretSize], raw[secretSize:])
	return bytes.Equal(got, secret)
}

// FuzzVerify feeds arbitrary strings to token verification: it must never
// panic, and must accept exactly the tokens Token could have produced for
// the session's secret, which is random per run, so nothing the fuzzer
// builds without it verifies.
func FuzzVerify(f *testing.F) {
	secret, other := make([]byte, secretSize), make([]byte, secretSize)
	rand.Read(secret)
	rand.Read(other)
	valid := mask(secret)
	for _, seed := range []string{
		valid, mask(other), "", "A", strings.Repeat("A", tokenLen), strings.Repeat("=", tokenLen),
		valid[:tokenLen-1], valid + "A", valid[:tokenLen-1] + "B", // a non-canonical last character
		strings.Repeat("\x00", tokenLen), strings.Repeat("é", tokenLen/2),
		b64.EncodeToString(make([]byte, 2*secretSize)),
		b64.EncodeToString(append(make([]byte, secretSize), secret...)), // the secret under a zero pad
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		got := verify(secret, tok)
		if want := isTokenFor(secret, tok); got != want {
			t.Fatalf("verify(%q) = %v, want %v", tok, got, want)
		}
		if verify(other, tok) && verify(secret, tok) {
			t.Fatalf("%q verifies for two secrets", tok)
		}
		if verify(nil, tok) || verify(secret[:secretSize-1], tok) {
			t.Fatalf("%q verifies for a short secret", tok)
		}
	})
}

// FuzzHandlerToken sends arbitrary header and form tokens through the
// middleware of a real Manager, for a stored anonymous session that has a
// secret and a visitor cookie: each must be rejected unless it is a token
// for that session's secret or that visitor cookie.
func FuzzHandlerToken(f *testing.F) {
	m, err := keycard.New(keycard.Config{OnEvent: func(event.Event) {}})
	if err != nil {
		f.Fatal(err)
	}
	p, err := New(m, Config{})
	if err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, Token(r)) })
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /store", func(w http.ResponseWriter, r *http.Request) {
		keycard.FromContext(r.Context()).Put("stored", true)
	})
	h := m.Handler(p.Handler(mux))

	// A visitor loads a form and stores its session, whose next form
	// carries a token of the session's secret.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "https://app.example.com/form", nil))
	visitor := w.Result().Cookies()
	r := httptest.NewRequest("POST", "https://app.example.com/store", nil)
	r.Header.Set("X-CSRF-Token", w.Body.String())
	r.AddCookie(visitor[0])
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	session := w.Result().Cookies()
	if w.Code != http.StatusOK || len(session) != 1 {
		f.Fatalf("storing the session: %d, cookies %v", w.Code, session)
	}
	r = httptest.NewRequest("GET", "https://app.example.com/form", nil)
	r.AddCookie(session[0])
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	cookies := append(session, visitor...)
	valid := w.Body.String()
	raw, _ := b64.DecodeString(valid)
	secret := make([]byte, secretSize)
	subtle.XORBytes(secret, raw[:secretSize], raw[secretSize:])
	// The visitor's tokens verify too, for the stored anonymous session.
	visitorMAC := p.visitorMAC(0, visitor[0].Value)

	f.Add(valid, false)
	f.Add(valid, true)
	f.Add(valid[1:]+"A", true)
	f.Add(mask(secret), false)
	f.Add("", false)
	f.Add("%00&csrf_token=x", true)
	f.Fuzz(func(t *testing.T, tok string, inForm bool) {
		var r *http.Request
		if inForm {
			r = httptest.NewRequest("POST", "https://app.example.com/submit",
				strings.NewReader("csrf_token="+tok))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest("POST", "https://app.example.com/submit", nil)
			r.Header.Set("X-CSRF-Token", tok)
		}
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)

		presented := tok
		if inForm {
			presented = formValue(tok)
		}
		want := http.StatusForbidden
		if isTokenFor(secret, presented) || isTokenFor(visitorMAC, presented) {
			want = http.StatusOK
		}
		if w.Code != want {
			t.Fatalf("token %q (form %v): got %d, want %d", tok, inForm, w.Code, want)
		}
	})
}

// formValue returns what the csrf_token field reads as in the body
// "csrf_token="+s, as url.ParseQuery would parse it.
func formValue(s string) string {
	r := httptest.NewRequest("POST", "/", strings.NewReader("csrf_token="+s))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.ParseForm()
	return r.PostForm.Get("csrf_token")
}

// FuzzVisitorToken sends arbitrary visitor cookies and tokens through the
// middleware of a real Manager, for visitors without a stored session. A
// pair must be rejected unless the cookie has the visitor cookie's shape
// and the token is a masked HMAC of it under one of the Manager's keys
// (the newest, or the one before: tokens survive a key rotation), which
// are random per run, so nothing the fuzzer builds without them verifies.
// A cookie that the Cookie header would split at a ";" is only required
// not to panic or fail with a 5xx; TestVisitorTokenBinding covers
// duplicated cookies.
func FuzzVisitorToken(f *testing.F) {
	k1, k2 := keycard.NewKey(), keycard.NewKey()
	// The Manager signs with k2 and still accepts k1's tokens.
	oldM, err := keycard.New(keycard.Config{Keys: []keycard.Key{k1}, OnEvent: func(event.Event) {}})
	if err != nil {
		f.Fatal(err)
	}
	m, err := keycard.New(keycard.Config{Keys: []keycard.Key{k2, k1}, OnEvent: func(event.Event) {}})
	if err != nil {
		f.Fatal(err)
	}
	oldP, err := New(oldM, Config{})
	if err != nil {
		f.Fatal(err)
	}
	p, err := New(m, Config{})
	if err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {})
	h := m.Handler(p.Handler(mux))

	value := b64.EncodeToString(bytes.Repeat([]byte{7}, secretSize))
	other := b64.EncodeToString(bytes.Repeat([]byte{9}, secretSize))
	valid, old := mask(p.visitorMAC(0, value)), mask(oldP.visitorMAC(0, value))
	for _, seed := range [][2]string{
		{value, valid}, {value, old}, {other, valid}, {value, mask(p.visitorMAC(0, other))},
		{value, value + value}, {"", valid}, {value[:42], valid}, {value + "A", valid},
		{value[:42] + "B", valid}, {value + "; x=y", valid}, {" " + value, valid},
		{value, valid[:85] + "A"}, {value, strings.Repeat("A", 86)}, {"\x00", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	f.Fuzz(func(t *testing.T, cookie, tok string) {
		r := httptest.NewRequest("POST", "https://app.example.com/submit", nil)
		r.Header.Set("Cookie", VisitorCookieName+"="+cookie)
		r.Header.Set("X-CSRF-Token", tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK && w.Code != http.StatusForbidden {
			t.Fatalf("cookie %q, token %q: status %d", cookie, tok, w.Code)
		}
		if strings.Contains(cookie, ";") {
			return
		}
		read := strings.TrimRight(cookie, " \t") // as the server reads it
		shaped := len(read) == visitorLen && strings.Trim(read, alphabet) == "" && validVisitor(read)
		want := http.StatusForbidden
		if shaped && (isTokenFor(p.visitorMAC(0, read), tok) || isTokenFor(p.visitorMAC(1, read), tok)) {
			want = http.StatusOK
		}
		if w.Code != want {
			t.Fatalf("cookie %q, token %q: got %d, want %d", cookie, tok, w.Code, want)
		}
	})
}
