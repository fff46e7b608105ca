package token

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"
)

// maxRefreshBody bounds a refresh request's body.
const maxRefreshBody = 4 << 10

// tokenResponse is an OAuth 2.0 access token response (RFC 6749 section
// 5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// errorResponse is an OAuth 2.0 error response (RFC 6749 section 5.2).
type errorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// WriteResponse writes the pair as an OAuth 2.0 access token response
// (RFC 6749 section 5.1): status 200, "Content-Type: application/json",
// "Cache-Control: no-store", "Pragma: no-cache" and
//
//	{"access_token":"…","token_type":"Bearer","expires_in":600,"refresh_token":"…"}
//
// where expires_in is ExpiresIn in whole seconds, rounded up and at least
// 1, so that a live token never reads as expired. Call it last, and only
// with a pair that Issue or Refresh just returned: a pair without its
// tokens is not written, but answered with 500 {"error":"server_error"}
// and an error. The error otherwise is w's, from writing the body.
func (p Pair) WriteResponse(w http.ResponseWriter) error {
	if p.AccessToken == "" || p.RefreshToken == "" || p.TokenType == "" {
		writeJSON(w, http.StatusInternalServerError, `{"error":"server_error"}`)
		return errors.New("token: WriteResponse: the pair has no tokens")
	}
	body, err := json.Marshal(tokenResponse{
		AccessToken: p.AccessToken, TokenType: p.TokenType,
		ExpiresIn: expiresIn(p.ExpiresIn), RefreshToken: p.RefreshToken,
	})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, `{"error":"server_error"}`)
		return err
	}
	w.Header().Set("Pragma", "no-cache")
	return writeJSON(w, http.StatusOK, string(body))
}

// expiresIn returns d in whole seconds, rounded up, and at least 1.
func expiresIn(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return max(s, 1)
}

// An OAuthError is an OAuth 2.0 error response (RFC 6749 section 5.2).
// ReadRefreshRequest returns one for every request it refuses, and
// WriteError writes one, or an app's own, as
//
//	400 {"error":"invalid_request","error_description":"…"}
type OAuthError struct {
	// Status is the HTTP status code; 0 means 400 Bad Request.
	Status int
	// Code is the "error" parameter, such as "invalid_request",
	// "invalid_grant" or "unsupported_grant_type".
	Code string
	// Description, if not empty, is sent as "error_description": a hint
	// for the client's developer, in printable ASCII without '"' or '\'.
	// Never put a token or a secret in it.
	Description string

	err error // what exactly was refused, for logs; never sent
}

// Error returns the code, the description and the detail, for logs.
func (e *OAuthError) Error() string {
	s := "token: " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

// Unwrap returns the detail of a refusal by ReadRefreshRequest, such as an
// *http.MaxBytesError, or nil.
func (e *OAuthError) Unwrap() error { return e.err }

// WriteError writes err as an OAuth 2.0 error response (RFC 6749 section
// 5.2), with "Content-Type: application/json" and "Cache-Control:
// no-store":
//
//   - an *OAuthError (found with errors.As), such as ReadRefreshRequest
//     returns, as its status and code, and its description if any;
//   - an error wrapping ErrInvalidGrant, such as Refresh returns, as
//     400 {"error":"invalid_grant"};
//   - any other error, such as a store failure, as
//     503 {"error":"temporarily_unavailable"}: the client keeps its
//     refresh token and retries.
//
// The text of err is never sent; log it first if it is not an
// *OAuthError or ErrInvalidGrant.
func WriteError(w http.ResponseWriter, err error) {
	var oe *OAuthError
	switch {
	case errors.As(err, &oe):
		status := oe.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		body, _ := json.Marshal(errorResponse{oe.Code, oe.Description}) // strings only: never fails
		writeJSON(w, status, string(body))
	case errors.Is(err, ErrInvalidGrant):
		writeJSON(w, http.StatusBadRequest, `{"error":"invalid_grant"}`)
	default:
		writeJSON(w, http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`)
	}
}

// Details of refused refresh requests, for logs.
var (
	errMethod       = errors.New("method is not POST")
	errTokenInQuery = errors.New("refresh_token in the URL's query")
	errContentType  = errors.New("body is neither a form nor JSON")
	errForm         = errors.New("malformed form")
	errJSON         = errors.New("not a JSON object of parameters")
	errDuplicate    = errors.New("a parameter is included more than once")
	errGrantType    = errors.New(`grant_type is not "refresh_token"`)
	errNoToken      = errors.New("no refresh_token")
)

func invalidRequest(err error) *OAuthError {
	return &OAuthError{Code: "invalid_request", err: err}
}

// ReadRefreshRequest reads an OAuth 2.0 refresh request (RFC 6749 section
// 6) and returns its refresh token, for an app's own token endpoint:
//
//	tok, err := token.ReadRefreshRequest(w, r)
//	if err != nil {
//		token.WriteError(w, err)
//		return
//	}
//	pair, err := iss.Refresh(r.Context(), tok)
//	...
//	pair.WriteResponse(w)
//
// The request must be a POST whose body, of at most 4 KiB, is a form
// (application/x-www-form-urlencoded) or a JSON object with the parameter
// "refresh_token" and, optionally, "grant_type" set to "refresh_token".
// Other parameters are ignored; empty ones count as omitted. Every refusal
// is an *OAuthError, with code:
//
//   - "unsupported_grant_type" for another grant_type;
//   - "invalid_request" for anything else: no refresh_token, a
//     parameter included twice, a refresh_token in the URL's query
//     (URLs end up in logs), an oversized or malformed body, another
//     content type, or another method (with status 405, and the "Allow:
//     POST" header set on w).
//
// The token itself is not checked: Refresh does that.
func ReadRefreshRequest(w http.ResponseWriter, r *http.Request) (string, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return "", &OAuthError{Status: http.StatusMethodNotAllowed, Code: "invalid_request", err: errMethod}
	}
	if r.URL.Query().Has("refresh_token") {
		return "", invalidRequest(errTokenInQuery)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRefreshBody)
	var tok, grant string
	var err error
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		tok, grant, err = formParams(r)
	case "application/json":
		tok, grant, err = jsonParams(r.Body)
	default:
		err = errContentType
	}
	switch {
	case err != nil:
		return "", invalidRequest(err)
	case grant != "" && grant != "refresh_token":
		return "", &OAuthError{Code: "unsupported_grant_type", err: errGrantType}
	case tok == "":
		return "", invalidRequest(errNoToken)
	}
	return tok, nil
}

// formParams reads the refresh token and grant type of a form body.
func formParams(r *http.Request) (tok, grant string, err error) {
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", "", tooLarge
		}
		return "", "", errForm
	}
	for _, v := range r.PostForm {
		if len(v) > 1 {
			return "", "", errDuplicate
		}
	}
	return r.PostForm.Get("refresh_token"), r.PostForm.Get("grant_type"), nil
}

// jsonParams reads the refresh token and grant type of a JSON body: one
// object, each of whose keys appears once, with string (or null) values
// for the two; other values are skipped.
func jsonParams(body io.Reader) (tok, grant string, err error) {
	fail := func(err error) (string, string, error) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", "", tooLarge
		}
		return "", "", errJSON
	}
	dec := json.NewDecoder(body)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fail(err)
	}
	seen := make(map[string]bool)
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return fail(err)
		}
		if seen[key] {
			return "", "", errDuplicate
		}
		seen[key] = true
		var dst *string
		switch key {
		case "refresh_token":
			dst = &tok
		case "grant_type":
			dst = &grant
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(err)
			}
			continue
		}
		var v *string // nil for null
		if err := dec.Decode(&v); err != nil {
			return fail(err)
		}
		if v != nil {
			*dst = *v
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(err) // more after the object
	}
	return tok, grant, nil
}
