package e2e

import (
	"slices"
	"testing"
)

// An anonymous visitor's cart lives in a server-side session named by the
// cookie: it survives page loads and new tabs, and another browser does not
// see it.
func TestAnonymousCart(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	b := newBrowser(t, d, "A")

	b.openOK("/")
	if u := b.user(); u != "" {
		t.Fatalf("new visitor signed in as %q", u)
	}
	if c := b.cart(); len(c) != 0 {
		t.Fatalf("new visitor's cart: %q, want empty", c)
	}
	b.addToCart("tea")
	if f := b.flashes(); !slices.Contains(f, "Added Green tea to your cart.") {
		t.Errorf("flashes after adding tea: %q", f)
	}
	b.addToCart("tea")
	b.addToCart("croissant")
	want := []string{"2 × Green tea", "1 × Croissant"}
	if c := b.cart(); !slices.Equal(c, want) {
		t.Fatalf("cart: %q, want %q", c, want)
	}

	// Page loads: the shop again, another page, the shop again.
	for _, p := range []string{"/", "/api", "/"} {
		b.openOK(p)
	}
	if c := b.cart(); !slices.Equal(c, want) {
		t.Fatalf("cart after reloading: %q, want %q", c, want)
	}
	if n := b.text("section.card h2 .badge"); n != "3" {
		t.Errorf("cart badge %q, want 3", n)
	}
	if u := b.user(); u != "" {
		t.Errorf("anonymous visitor signed in as %q", u)
	}
	b.screenshot("shop-anonymous-cart")

	// Another browser, another session: an empty cart.
	other := newBrowser(t, d, "B")
	other.openOK("/")
	if c := other.cart(); len(c) != 0 {
		t.Errorf("another browser's cart: %q, want empty", c)
	}
	// And the first browser still has its cart.
	b.openOK("/")
	if c := b.cart(); !slices.Equal(c, want) {
		t.Errorf("cart after another browser's visit: %q, want %q", c, want)
	}
}
