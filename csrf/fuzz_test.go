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
// middleware of a real Manager, for a session that has a secret: each must
// be rejected unless it is a token for that session.
func FuzzHandlerToken(f *testing.F) {
	m, err := keycard.New(keycard.Config{OnEvent: func(keycard.Event) {}})
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
	h := m.Handler(p.Handler(mux))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "https://app.example.com/form", nil))
	cookies := w.Result().Cookies()
	valid := w.Body.String()
	raw, _ := b64.DecodeString(valid)
	secret := make([]byte, secretSize)
	subtle.XORBytes(secret, raw[:secretSize], raw[secretSize:])

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
		if isTokenFor(secret, presented) {
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
