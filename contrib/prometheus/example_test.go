package keycardprom_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/keycard-go/keycard"
	keycardprom "github.com/keycard-go/keycard/contrib/prometheus"
	"github.com/keycard-go/keycard/store/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Example instruments a Manager: its events and its store calls become
// metrics, served on /metrics; the Manager still logs its events.
func Example() {
	reg := prometheus.NewRegistry() // or prometheus.DefaultRegisterer
	metrics, err := keycardprom.New(reg, keycardprom.Config{})
	if err != nil {
		panic(err)
	}
	m, err := keycard.New(keycard.Config{
		Store:   metrics.Store(memory.New(memory.Config{})),
		OnEvent: metrics.OnEvent,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		m.Login(r.Context(), keycard.FromContext(r.Context()), "alice")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		m.Logout(r.Context(), keycard.FromContext(r.Context()))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ts := httptest.NewTLSServer(m.Handler(mux))
	defer ts.Close()

	client := ts.Client()
	client.Jar, _ = cookiejar.New(nil)
	client.Post(ts.URL+"/login", "", nil)
	client.Post(ts.URL+"/logout", "", nil)

	res, err := client.Get(ts.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	timed := false
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, `keycard_events_total{kind="created"`) ||
			strings.HasPrefix(line, `keycard_events_total{kind="renewed",reason="login"`) ||
			strings.HasPrefix(line, `keycard_events_total{kind="destroyed",reason="logout"`) ||
			strings.HasPrefix(line, `keycard_events_total{kind="rejected",reason="bad-mac"`) {
			fmt.Println(line)
		}
		if strings.HasPrefix(line, `keycard_store_duration_seconds_count{op="save",result="ok"}`) {
			timed = !strings.HasSuffix(line, " 0")
		}
	}
	fmt.Println("saves timed:", timed)
	// Output:
	// keycard_events_total{kind="created",reason="none"} 1
	// keycard_events_total{kind="destroyed",reason="logout"} 1
	// keycard_events_total{kind="rejected",reason="bad-mac"} 0
	// keycard_events_total{kind="renewed",reason="login"} 1
	// saves timed: true
}
