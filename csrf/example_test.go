package csrf_test

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/csrf"
	"github.com/keycard-go/keycard/event"
)

// Example shows a form round trip: the page carries a token in a hidden
// field, the browser posts it back, and a forged post without it fails.
func Example() {
	m, err := keycard.New(keycard.Config{OnEvent: func(ev event.Event) {
		if ev.Kind == csrf.EventRejected {
			fmt.Println("event:", ev.Kind, ev.Reason)
		}
	}})
	if err != nil {
		panic(err)
	}
	p, err := csrf.New(m, csrf.Config{})
	if err != nil {
		panic(err)
	}

	page := template.Must(template.New("").Parse(`<form method="post" action="/comment">
  <input type="hidden" name="csrf_token" value="{{.}}">
  <textarea name="text"></textarea>
</form>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /comment", func(w http.ResponseWriter, r *http.Request) {
		page.Execute(w, csrf.Token(r))
	})
	mux.HandleFunc("POST /comment", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "saved %q", r.PostFormValue("text"))
	})
	ts := httptest.NewTLSServer(m.Handler(p.Handler(mux)))
	defer ts.Close()

	jar, _ := cookiejar.New(nil)
	client := ts.Client()
	client.Jar = jar
	show := func(res *http.Response, err error) string {
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return fmt.Sprintf("%d %s", res.StatusCode, strings.TrimSpace(string(b)))
	}

	// The browser loads the form and submits it with its hidden field.
	res, err := client.Get(ts.URL + "/comment")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)[1]
	fmt.Println(show(client.PostForm(ts.URL+"/comment", url.Values{
		"csrf_token": {string(token)}, "text": {"Nice post!"},
	})))

	// Another site's page makes the same browser post without the token.
	fmt.Println(show(client.PostForm(ts.URL+"/comment", url.Values{"text": {"Buy now"}})))

	// Output:
	// 200 saved "Nice post!"
	// event: csrf-rejected missing-token
	// 403 Forbidden
}
