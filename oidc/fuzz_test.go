package oidc

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzReturnPath feeds arbitrary return paths to ReturnPath: whatever it
// accepts comes back unchanged and, resolved the way a browser resolves a
// Location header against this site (after the browser's own rewriting of
// backslashes and removal of tabs and newlines), stays on this site.
func FuzzReturnPath(f *testing.F) {
	for _, seed := range []string{
		"/", "/cart?x=1#y", "//evil.example", "/\\evil.example", "https://evil.example",
		"/\t/evil.example", "/%2e%2e/", "/a/../../b", "javascript:alert(1)", "/@evil.example",
		"/;@evil.example", "/?//evil.example", "/#//evil.example", "\\\\evil.example",
	} {
		f.Add(seed)
	}
	base, _ := url.Parse("https://shop.example/some/page")
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := ReturnPath(raw)
		if !ok {
			if got != "" {
				t.Fatalf("refused %q but returned %q", raw, got)
			}
			return
		}
		if got != raw {
			t.Fatalf("ReturnPath(%q) = %q, want it unchanged", raw, got)
		}
		// What a browser would do to the Location value before parsing.
		browser := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(got)
		if browser != got {
			t.Fatalf("accepted %q, which a browser rewrites to %q", got, browser)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") {
			t.Fatalf("accepted %q, which is not a path-absolute reference", got)
		}
		ref, err := url.Parse(got)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", got, err)
		}
		u := base.ResolveReference(ref)
		if u.Scheme != "https" || u.Host != "shop.example" || u.User != nil {
			t.Fatalf("accepted %q, which resolves to %s", got, u)
		}
		if strings.HasPrefix(u.EscapedPath(), "//") {
			t.Fatalf("accepted %q, whose resolved path %q a later redirect could read as a host", got, u.EscapedPath())
		}
	})
}
