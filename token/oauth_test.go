package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPairWriteResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	rec := httptest.NewRecorder()
	if err := p.WriteResponse(rec); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for k, want := range map[string]string{
		"Content-Type":           "application/json",
		"Cache-Control":          "no-store",
		"Pragma":                 "no-cache",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := rec.Header().Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	want := map[string]any{
		"access_token": p.AccessToken, "token_type": "Bearer",
		"expires_in": float64(600), "refresh_token": p.RefreshToken,
	}
	if fmt.Sprint(body) != fmt.Sprint(want) {
		t.Errorf("body %v, want %v", body, want)
	}
	if _, err := e.iss.Verify(t.Context(), body["access_token"].(string)); err != nil {
		t.Errorf("the written access token does not verify: %v", err)
	}
}

func TestExpiresInRoundsUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{
		{10 * time.Minute, 600},
		{10*time.Minute - 300*time.Millisecond, 600},
		{time.Second, 1},
		{1500 * time.Millisecond, 2},
		{time.Nanosecond, 1},
		{0, 1},
		{-5 * time.Second, 1},
		{math.MaxInt64, math.MaxInt64/int64(time.Second) + 1},
	} {
		if got := expiresIn(tc.d); got != tc.want {
			t.Errorf("expiresIn(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestWriteResponseRefusesAPairWithoutTokens(t *testing.T) {
	t.Parallel()
	for _, p := range []Pair{{}, {AccessToken: "a", TokenType: "Bearer", ExpiresIn: time.Minute}, {RefreshToken: "r", TokenType: "Bearer"}} {
		rec := httptest.NewRecorder()
		if err := p.WriteResponse(rec); err == nil {
			t.Errorf("%v: no error", p)
		}
		if rec.Code != http.StatusInternalServerError || strings.TrimSpace(rec.Body.String()) != `{"error":"server_error"}` {
			t.Errorf("%v: %d %s", p, rec.Code, rec.Body)
		}
		if rec.Header().Get("Pragma") != "" || strings.Contains(rec.Body.String(), "access_token") {
			t.Errorf("%v: written as a token response", p)
		}
	}
}

// A client decodes the response the way OAuth clients do, and refreshes
// with the standard form request, against an app's own endpoint and
// against RefreshHandler.
func TestTokenResponseRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.login(t, "alice")
	own := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := ReadRefreshRequest(w, r)
		if err != nil {
			WriteError(w, err)
			return
		}
		p, err := e.iss.Refresh(r.Context(), tok)
		if err != nil {
			WriteError(w, err)
			return
		}
		if err := p.WriteResponse(w); err != nil {
			t.Error(err)
		}
	})
	type response struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
	}
	decode := func(r io.Reader) response {
		t.Helper()
		var tr response
		dec := json.NewDecoder(r)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&tr); err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(tr.TokenType, "bearer") || tr.ExpiresIn != 600 || tr.AccessToken == "" || tr.RefreshToken == "" {
			t.Fatalf("token response %+v", tr)
		}
		return tr
	}
	rec := httptest.NewRecorder()
	p.WriteResponse(rec)
	tr := decode(rec.Body)

	for _, h := range []http.Handler{own, e.iss.RefreshHandler()} {
		ts := httptest.NewServer(h)
		res, err := http.PostForm(ts.URL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}})
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Pragma") != "no-cache" {
			t.Fatalf("refresh: %d %v", res.StatusCode, res.Header)
		}
		next := decode(res.Body)
		res.Body.Close()
		ts.Close()
		if next.RefreshToken == tr.RefreshToken {
			t.Fatal("the refresh token did not rotate")
		}
		if _, err := e.iss.VerifyStrict(t.Context(), next.AccessToken); err != nil {
			t.Fatalf("refreshed access token: %v", err)
		}
		tr = next
	}
	refreshOK(t, e, tr.RefreshToken)
}

func TestReadRefreshRequest(t *testing.T) {
	t.Parallel()
	const (
		form = "application/x-www-form-urlencoded"
		js   = "application/json"
		tok  = "TOKEN"
	)
	for _, tc := range []struct {
		name, method, target, ctype, body string
	}{
		{"form", "POST", "/token", form, "grant_type=refresh_token&refresh_token=TOKEN"},
		{"form without grant_type", "POST", "/token", form, "refresh_token=TOKEN"},
		{"form with an empty grant_type", "POST", "/token", form, "grant_type=&refresh_token=TOKEN"},
		{"form with a charset", "POST", "/token", form + "; charset=UTF-8", "refresh_token=TOKEN&grant_type=refresh_token"},
		{"form with other parameters", "POST", "/token?client=web", form, "refresh_token=TOKEN&scope=all"},
		{"JSON", "POST", "/token", js, `{"grant_type":"refresh_token","refresh_token":"TOKEN"}`},
		{"JSON without grant_type", "POST", "/token", js, ` {"refresh_token":"TOKEN"} ` + "\n"},
		{"JSON with a null grant_type", "POST", "/token", js, `{"refresh_token":"TOKEN","grant_type":null}`},
		{"JSON with other parameters", "POST", "/token", js, `{"scope":["a",{"b":1}],"refresh_token":"TOKEN","n":1}`},
		{"JSON with an escaped key", "POST", "/token", js, `{"refresh\u005ftoken":"TOKEN"}`},
	} {
		req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ctype)
		got, err := ReadRefreshRequest(httptest.NewRecorder(), req)
		if err != nil || got != tok {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tok)
		}
	}

	huge := "refresh_token=TOKEN&pad=" + strings.Repeat("a", maxRefreshBody)
	for _, tc := range []struct {
		name, method, target, ctype, body string
		status                            int
		code                              string
		detail                            error
	}{
		{"GET", "GET", "/token", "", "", 405, "invalid_request", errMethod},
		{"PUT", "PUT", "/token", form, "refresh_token=TOKEN", 405, "invalid_request", errMethod},
		{"token in the query", "POST", "/token?refresh_token=TOKEN", form, "", 400, "invalid_request", errTokenInQuery},
		{"token in the query and the body", "POST", "/token?refresh_token=TOKEN", form, "refresh_token=TOKEN", 400, "invalid_request", errTokenInQuery},
		{"no token", "POST", "/token", form, "grant_type=refresh_token", 400, "invalid_request", errNoToken},
		{"empty token", "POST", "/token", form, "grant_type=refresh_token&refresh_token=", 400, "invalid_request", errNoToken},
		{"empty body", "POST", "/token", form, "", 400, "invalid_request", errNoToken},
		{"two tokens", "POST", "/token", form, "refresh_token=TOKEN&refresh_token=TOKEN", 400, "invalid_request", errDuplicate},
		{"an empty and a token", "POST", "/token", form, "refresh_token=&refresh_token=TOKEN", 400, "invalid_request", errDuplicate},
		{"two grant types", "POST", "/token", form, "grant_type=refresh_token&grant_type=refresh_token&refresh_token=TOKEN", 400, "invalid_request", errDuplicate},
		{"another parameter twice", "POST", "/token", form, "refresh_token=TOKEN&scope=a&scope=b", 400, "invalid_request", errDuplicate},
		{"password grant", "POST", "/token", form, "grant_type=password&username=alice&password=x", 400, "unsupported_grant_type", errGrantType},
		{"other grant with a token", "POST", "/token", form, "grant_type=authorization_code&refresh_token=TOKEN", 400, "unsupported_grant_type", errGrantType},
		{"grant type in another case", "POST", "/token", form, "grant_type=Refresh_Token&refresh_token=TOKEN", 400, "unsupported_grant_type", errGrantType},
		{"malformed form", "POST", "/token", form, "refresh_token=%zz", 400, "invalid_request", errForm},
		{"no content type", "POST", "/token", "", "refresh_token=TOKEN", 400, "invalid_request", errContentType},
		{"text/plain", "POST", "/token", "text/plain", "refresh_token=TOKEN", 400, "invalid_request", errContentType},
		{"multipart", "POST", "/token", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"refresh_token\"\r\n\r\nTOKEN\r\n--x--\r\n", 400, "invalid_request", errContentType},
		{"huge form", "POST", "/token", form, huge, 400, "invalid_request", nil},
		{"huge JSON", "POST", "/token", js, `{"refresh_token":"TOKEN","pad":"` + strings.Repeat("a", maxRefreshBody) + `"}`, 400, "invalid_request", nil},
		{"JSON: two tokens", "POST", "/token", js, `{"refresh_token":"TOKEN","refresh_token":"TOKEN"}`, 400, "invalid_request", errDuplicate},
		{"JSON: escaped duplicate", "POST", "/token", js, `{"refresh_token":"x","refresh\u005ftoken":"TOKEN"}`, 400, "invalid_request", errDuplicate},
		{"JSON: another key twice", "POST", "/token", js, `{"refresh_token":"TOKEN","a":1,"a":2}`, 400, "invalid_request", errDuplicate},
		{"JSON: other grant", "POST", "/token", js, `{"grant_type":"password","refresh_token":"TOKEN"}`, 400, "unsupported_grant_type", errGrantType},
		{"JSON: no token", "POST", "/token", js, `{"grant_type":"refresh_token"}`, 400, "invalid_request", errNoToken},
		{"JSON: null token", "POST", "/token", js, `{"refresh_token":null}`, 400, "invalid_request", errNoToken},
		{"JSON: number token", "POST", "/token", js, `{"refresh_token":1}`, 400, "invalid_request", errJSON},
		{"JSON: array token", "POST", "/token", js, `{"refresh_token":["TOKEN"]}`, 400, "invalid_request", errJSON},
		{"JSON: trailing data", "POST", "/token", js, `{"refresh_token":"TOKEN"}x`, 400, "invalid_request", errJSON},
		{"JSON: two objects", "POST", "/token", js, `{"refresh_token":"TOKEN"}{"refresh_token":"TOKEN"}`, 400, "invalid_request", errJSON},
		{"JSON: an array", "POST", "/token", js, `[{"refresh_token":"TOKEN"}]`, 400, "invalid_request", errJSON},
		{"JSON: a string", "POST", "/token", js, `"TOKEN"`, 400, "invalid_request", errJSON},
		{"JSON: truncated", "POST", "/token", js, `{"refresh_token":"TOKEN"`, 400, "invalid_request", errJSON},
		{"JSON: empty", "POST", "/token", js, ``, 400, "invalid_request", errJSON},
	} {
		req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		rec := httptest.NewRecorder()
		got, err := ReadRefreshRequest(rec, req)
		var oe *OAuthError
		if got != "" || !errors.As(err, &oe) {
			t.Errorf("%s: %q, %v; want an *OAuthError", tc.name, got, err)
			continue
		}
		if oe.Code != tc.code || oe.Description != "" {
			t.Errorf("%s: code %q (%q), want %q", tc.name, oe.Code, oe.Description, tc.code)
		}
		if tc.detail != nil && !errors.Is(err, tc.detail) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.detail)
		}
		if tc.detail == nil && !errors.As(err, new(*http.MaxBytesError)) {
			t.Errorf("%s: %v, want an *http.MaxBytesError", tc.name, err)
		}
		if strings.Contains(err.Error(), tok) {
			t.Errorf("%s: the error names the token: %v", tc.name, err)
		}
		WriteError(rec, err)
		want := `{"error":"` + tc.code + `"}`
		if rec.Code != tc.status || strings.TrimSpace(rec.Body.String()) != want {
			t.Errorf("%s: wrote %d %s, want %d %s", tc.name, rec.Code, rec.Body, tc.status, want)
		}
		if allow := rec.Header().Get("Allow"); (tc.status == 405) != (allow == "POST") {
			t.Errorf("%s: Allow %q", tc.name, allow)
		}
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		status int
		body   string
	}{
		{&OAuthError{Code: "invalid_client"}, 400, `{"error":"invalid_client"}`},
		{&OAuthError{Status: 401, Code: "invalid_client", Description: "unknown client"}, 401, `{"error":"invalid_client","error_description":"unknown client"}`},
		{fmt.Errorf("wrapped: %w", &OAuthError{Status: 429, Code: "slow_down"}), 429, `{"error":"slow_down"}`},
		{errRefreshReuse, 400, `{"error":"invalid_grant"}`},
		{errRefreshReuse.with(errors.New("secret detail")), 400, `{"error":"invalid_grant"}`},
		{fmt.Errorf("token: refresh: secret detail: %w", errDown), 503, `{"error":"temporarily_unavailable"}`},
	} {
		rec := httptest.NewRecorder()
		WriteError(rec, tc.err)
		if rec.Code != tc.status || strings.TrimSpace(rec.Body.String()) != tc.body {
			t.Errorf("%v: %d %s, want %d %s", tc.err, rec.Code, rec.Body, tc.status, tc.body)
		}
		h := rec.Header()
		if h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "" {
			t.Errorf("%v: headers %v", tc.err, h)
		}
		if bytes.Contains(rec.Body.Bytes(), []byte("secret")) {
			t.Errorf("%v: the error's text was sent", tc.err)
		}
	}
	if got := (&OAuthError{Code: "invalid_request", Description: "no body", err: errNoToken}).Error(); got != "token: invalid_request: no body: no refresh_token" {
		t.Errorf("Error() = %q", got)
	}
}
