package token_test

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/token"
)

// Example shows an API with a login that returns a token pair, a resource
// behind the access-token middleware, the refresh endpoint, and a logout
// that ends the session: its refresh token dies at once.
func Example() {
	m, err := keycard.New(keycard.Config{})
	if err != nil {
		panic(err)
	}
	key, _ := token.NewEd25519Key("2026-11")
	keys, _ := token.NewKeySet(key)
	iss, err := token.New(m, token.Config{
		Issuer:     "https://auth.example.com",
		Audience:   "https://api.example.com",
		Keys:       keys,
		RefreshKey: keycard.NewKey(), // in production: the same secret on every instance
	})
	if err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the user's credentials first; then:
		s := keycard.FromContext(r.Context())
		if err := m.Login(r.Context(), s, "alice"); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		m.RememberMe(s, true) // refresh tokens live as long as the session
		pair, err := iss.Issue(r.Context(), s)
		if err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		pair.WriteResponse(w) // an OAuth token response, not cacheable
	})
	mux.Handle("POST /token", iss.RefreshHandler())
	mux.Handle("GET /.well-known/jwks.json", iss.JWKS())
	mux.Handle("GET /me", iss.Middleware(false)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := token.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "hello %s\n", c.Subject)
	})))
	mux.Handle("POST /logout", iss.Middleware(true)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := token.ClaimsFromContext(r.Context())
		m.Revoke(r.Context(), c.SessionID)
		fmt.Fprintln(w, "bye")
	})))
	ts := httptest.NewTLSServer(m.Handler(mux))
	defer ts.Close()

	call := func(method, path, bearer string, form url.Values) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := ts.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b))
	}
	var pair struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
	}

	_, body := call("POST", "/login", "", nil)
	json.Unmarshal([]byte(body), &pair)
	fmt.Println("expires in", pair.ExpiresIn)
	fmt.Println(call("GET", "/me", pair.AccessToken, nil))

	_, body = call("POST", "/token", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pair.RefreshToken}})
	json.Unmarshal([]byte(body), &pair)
	fmt.Println(call("GET", "/me", pair.AccessToken, nil))

	fmt.Println(call("POST", "/logout", pair.AccessToken, nil))
	fmt.Println(call("POST", "/token", "", url.Values{"refresh_token": {pair.RefreshToken}}))
	fmt.Println(call("POST", "/logout", pair.AccessToken, nil))
	// Output:
	// expires in 600
	// 200 hello alice
	// 200 hello alice
	// 200 bye
	// 400 {"error":"invalid_grant"}
	// 401 {"error":"unauthorized"}
}

// Example_tokenEndpoint shows an app's own token endpoints, built from
// the pieces of RefreshHandler: a login that answers with a token
// response, and a refresh endpoint that also authenticates the client
// (RFC 6749 section 2.3), which RefreshHandler does not do.
func Example_tokenEndpoint() {
	m, _ := keycard.New(keycard.Config{})
	key, _ := token.NewEd25519Key("2026-11")
	keys, _ := token.NewKeySet(key)
	iss, _ := token.New(m, token.Config{
		Issuer: "https://auth.example.com", Audience: "https://api.example.com",
		Keys: keys, RefreshKey: keycard.NewKey(),
	})

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		if r.PostFormValue("username") != "alice" || r.PostFormValue("password") != "wonderland" {
			token.WriteError(w, &token.OAuthError{Code: "invalid_grant", Description: "wrong user name or password"})
			return
		}
		s := keycard.FromContext(r.Context())
		err := m.Login(r.Context(), s, "alice")
		if err == nil {
			err = m.RememberMe(s, true)
		}
		var pair token.Pair
		if err == nil {
			pair, err = iss.Issue(r.Context(), s)
		}
		if err != nil {
			log.Print(err)
			token.WriteError(w, err) // 503 temporarily_unavailable
			return
		}
		pair.WriteResponse(w)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		if id != "mobile-app" || subtle.ConstantTimeCompare([]byte(secret), []byte("client-secret")) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
			token.WriteError(w, &token.OAuthError{Status: http.StatusUnauthorized, Code: "invalid_client"})
			return
		}
		tok, err := token.ReadRefreshRequest(w, r)
		if err != nil {
			token.WriteError(w, err) // invalid_request or unsupported_grant_type
			return
		}
		pair, err := iss.Refresh(r.Context(), tok)
		if err != nil {
			if !errors.Is(err, token.ErrInvalidGrant) {
				log.Print(err)
			}
			token.WriteError(w, err) // invalid_grant, or 503 temporarily_unavailable
			return
		}
		pair.WriteResponse(w)
	})
	ts := httptest.NewTLSServer(m.Handler(mux))
	defer ts.Close()

	// A client, as OAuth libraries do it.
	var pair struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
	}
	post := func(target string, form url.Values, client bool) {
		req, _ := http.NewRequest("POST", ts.URL+target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if client {
			req.SetBasicAuth("mobile-app", "client-secret")
		}
		res, err := ts.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(res.Body)
			fmt.Println(res.StatusCode, strings.TrimSpace(string(b)))
			return
		}
		json.NewDecoder(res.Body).Decode(&pair)
		fmt.Println(res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("Pragma"), pair.TokenType, pair.ExpiresIn)
	}
	refresh := func(tok string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}
	}

	post("/login", url.Values{"username": {"alice"}, "password": {"guess"}}, false)
	post("/login", url.Values{"username": {"alice"}, "password": {"wonderland"}}, false)
	post("/token", refresh(pair.RefreshToken), false)
	post("/token", refresh(pair.RefreshToken), true)
	post("/token?refresh_token="+pair.RefreshToken, nil, true)
	post("/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"}}, true)
	post("/token", refresh("forged"), true)
	// Output:
	// 400 {"error":"invalid_grant","error_description":"wrong user name or password"}
	// 200 no-store no-cache Bearer 600
	// 401 {"error":"invalid_client"}
	// 200 no-store no-cache Bearer 600
	// 400 {"error":"invalid_request"}
	// 400 {"error":"unsupported_grant_type"}
	// 400 {"error":"invalid_grant"}
}

// ExampleKeySet shows a signing-key rotation: the next key is published
// before it signs, and the old key verifies its tokens until they expire.
func ExampleKeySet() {
	k1, _ := token.NewEd25519Key("2026-11")
	keys, _ := token.NewKeySet(k1)

	k2, _ := token.NewEd25519Key("2026-12")
	keys.AddNext(k2) // step 1: publish; wait for the JWKS max-age
	fmt.Println(keys.IDs())

	keys.Promote("2026-12") // step 2: k2 signs, k1 verifies its tokens
	fmt.Println(keys.IDs())

	keys.Remove("2026-11") // optional: k1 leaves on its own once its tokens expired
	fmt.Println(keys.IDs())
	// Output:
	// [2026-12] 2026-11 []
	// [] 2026-12 [2026-11]
	// [] 2026-12 []
}

// A key never prints its material.
func ExampleNewEd25519Key() {
	k, _ := token.NewEd25519Key("2026-11")
	fmt.Println(k)
	fmt.Printf("%#v\n", k)
	// Output:
	// token.PrivateKey{kid: 2026-11, alg: EdDSA, [REDACTED]}
	// token.PrivateKey{kid: 2026-11, alg: EdDSA, [REDACTED]}
}
