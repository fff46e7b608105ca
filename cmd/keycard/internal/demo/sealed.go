package demo

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/keycard-go/keycard"
)

// maxNote bounds the note of the sealed page, in characters; a sealed
// session holds about 2.7 KB of values, so the largest notes are refused
// by Keycard itself.
const maxNote = 4000

type sealedData struct {
	Count      int
	Note       string
	CookieName string
	CookieSize int // bytes of the cookie the browser sent, 0 for none
	Created    string
}

func (a *App) sealedPage(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	d := sealedData{CookieName: SealedCookieName}
	d.Count, _ = keycard.Get[int](s, "count")
	d.Note, _ = keycard.Get[string](s, "note")
	if c, err := r.Cookie(SealedCookieName); err == nil {
		d.CookieSize = len(c.Name) + 1 + len(c.Value)
	}
	if !s.IsNew() {
		d.Created = when(s.Info().Created)
	}
	v := a.newView(r, s, "Sealed cookie", "sealed")
	v.Data = d
	a.render(w, r, http.StatusOK, "sealed", v)
}

func (a *App) sealedCount(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	if _, err := keycard.Update(r.Context(), s, "count", func(n int) int { return n + 1 }); err != nil {
		a.fail(w, r, err)
		return
	}
	redirect(w, r, "/sealed/")
}

func (a *App) sealedNote(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	note := strings.TrimSpace(r.PostFormValue("note"))
	switch {
	case utf8.RuneCountInString(note) > maxNote:
		s.Flash(fmt.Sprintf("That note is over %d characters.", maxNote))
	case note == "":
		s.Delete("note")
	default:
		err := s.Put("note", note)
		if errors.Is(err, keycard.ErrTooLarge) {
			s.Flash(fmt.Sprintf("A %d-byte note does not fit in a cookie: a sealed session holds about 2.7 KB. Keycard refused it; nothing changed.", len(note)))
			break
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
	}
	redirect(w, r, "/sealed/")
}

func (a *App) sealedReset(w http.ResponseWriter, r *http.Request) {
	s := keycard.FromContext(r.Context())
	if err := a.sealed.Destroy(r.Context(), s); err != nil {
		a.fail(w, r, err)
		return
	}
	s.Flash("The sealed cookie is gone, and with it the counter and the note.")
	redirect(w, r, "/sealed/")
}
