package demo

import (
	"maps"
	"net/http"
	"slices"

	"github.com/keycard-go/keycard"
)

// product is something the demo shop sells.
type product struct {
	ID, Name, Blurb string
	Cents           int
}

var catalog = []product{
	{"tea", "Green tea", "Sencha, 100 g", 650},
	{"coffee", "Espresso beans", "Single origin, 250 g", 1200},
	{"croissant", "Croissant", "Baked this morning", 250},
	{"cake", "Lemon cake", "One generous slice", 420},
}

func productByID(id string) (product, bool) {
	i := slices.IndexFunc(catalog, func(p product) bool { return p.ID == id })
	if i < 0 {
		return product{}, false
	}
	return catalog[i], true
}

// cartKey holds the cart: product ID → quantity.
const cartKey = "cart"

type cartLine struct {
	Product  product
	Quantity int
	Cents    int
}

type shopData struct {
	Catalog []product
	Lines   []cartLine
	Items   int
	Total   int
}

func cartOf(s *keycard.Session) (lines []cartLine, items, total int) {
	cart, _ := keycard.Get[map[string]int](s, cartKey)
	for _, p := range catalog {
		if n := cart[p.ID]; n > 0 {
			lines = append(lines, cartLine{Product: p, Quantity: n, Cents: n * p.Cents})
			items += n
			total += n * p.Cents
		}
	}
	return lines, items, total
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	v := a.newView(r, s, "Shop", "shop")
	d := shopData{Catalog: catalog}
	d.Lines, d.Items, d.Total = cartOf(s)
	v.Data = d
	a.render(w, r, http.StatusOK, "home", v)
}

// changeCart applies fn to a copy of the cart, atomically. A visitor's
// first cart is put in their new session, which is stored with the
// flash message in one write as the response starts: no other request
// can know a session that is not stored yet, so there is nothing to race.
func changeCart(r *http.Request, fn func(cart map[string]int)) error {
	s := keycard.FromContext(r.Context())
	change := func(old map[string]int) map[string]int {
		cart := maps.Clone(old)
		if cart == nil {
			cart = map[string]int{}
		}
		fn(cart)
		return cart
	}
	if s.Err() == nil && s.IsNew() {
		old, _ := keycard.Get[map[string]int](s, cartKey)
		return s.Put(cartKey, change(old))
	}
	_, err := keycard.Update(r.Context(), s, cartKey, change)
	return err
}

func (a *App) cartAdd(w http.ResponseWriter, r *http.Request) {
	p, ok := productByID(r.PostFormValue("product"))
	if !ok {
		http.Error(w, "no such product", http.StatusBadRequest)
		return
	}
	if err := changeCart(r, func(c map[string]int) { c[p.ID] = min(c[p.ID]+1, 99) }); err != nil {
		a.fail(w, r, err)
		return
	}
	keycard.FromContext(r.Context()).Flash("Added " + p.Name + " to your cart.")
	redirect(w, r, "/")
}

func (a *App) cartRemove(w http.ResponseWriter, r *http.Request) {
	p, ok := productByID(r.PostFormValue("product"))
	if !ok {
		http.Error(w, "no such product", http.StatusBadRequest)
		return
	}
	if err := changeCart(r, func(c map[string]int) {
		if c[p.ID]--; c[p.ID] <= 0 {
			delete(c, p.ID)
		}
	}); err != nil {
		a.fail(w, r, err)
		return
	}
	redirect(w, r, "/")
}

func (a *App) cartClear(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	s.Delete(cartKey)
	s.Flash("Your cart is empty.")
	redirect(w, r, "/")
}
