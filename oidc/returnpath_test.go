package oidc

import "testing"

func TestReturnPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"/", true},
		{"/cart", true},
		{"/cart/checkout?step=2&x=%2F#top", true},
		{"/a/b/", true},
		{"/a..b/.c", true},
		{"", false},
		{"cart", false},
		{"//evil.example", false},
		{"//evil.example/path", false},
		{"/\\evil.example", false},
		{"/a\\b", false},
		{"https://evil.example/", false},
		{"javascript:alert(1)", false},
		{"/\t/evil.example", false},
		{"/\n/evil.example", false},
		{"/a b", false},
		{"/caf\u00e9", false},
		{"/\x7f", false},
		{"/..", false},
		{"/../evil", false},
		{"/a/./b", false},
		{"/%2e%2e/x", false},
		{"/%2E./x", false},
		{"/.%2e", false},
		{"/x?next=/../", true},
		{"/" + string(make([]byte, maxReturnPath)), false},
	} {
		got, ok := ReturnPath(tc.in)
		if ok != tc.ok || ok && got != tc.in {
			t.Errorf("ReturnPath(%q) = %q, %v; want ok=%v", tc.in, got, ok, tc.ok)
		}
	}
}
