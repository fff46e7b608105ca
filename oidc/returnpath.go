package oidc

import (
	"net/url"
	"strings"
)

// maxReturnPath bounds the return paths ReturnPath accepts, in bytes.
const maxReturnPath = 2048

// ReturnPath reports whether raw is a safe place to send the browser back
// to after a sign-in or sign-out, and returns it unchanged if so. It
// accepts only a path on this site: it starts with a single "/", holds
// only printable ASCII without spaces or backslashes (both of which
// browsers rewrite), has no "." or ".." segments (percent-encoded or not),
// is well-formed (percent-escapes included), and is at most 2 KiB; a query
// and a fragment may follow. It refuses
// absolute URLs ("https://evil.example"), scheme-relative ones
// ("//evil.example", "/\evil.example"), other schemes ("javascript:"),
// and control characters, so a return path never leaves the site.
//
// SignIn and SignOut apply it to the return paths they are given; use it
// for any other redirect target that comes from a request.
func ReturnPath(raw string) (string, bool) {
	if raw == "" || len(raw) > maxReturnPath || raw[0] != '/' {
		return "", false
	}
	if len(raw) > 1 && (raw[1] == '/' || raw[1] == '\\') {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		if b := raw[i]; b <= ' ' || b >= 0x7f || b == '\\' {
			return "", false
		}
	}
	if u, err := url.Parse(raw); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "", false // a malformed percent-escape, say
	}
	path := raw
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if l := strings.ToLower(path); strings.Contains(l, "%2f") || strings.Contains(l, "%5c") {
		return "", false // an escaped slash a later decoding could turn into "//"
	}
	for seg := range strings.SplitSeq(path, "/") {
		switch strings.ToLower(seg) {
		case ".", "..", "%2e", "%2e%2e", ".%2e", "%2e.":
			return "", false
		}
	}
	return raw, true
}
