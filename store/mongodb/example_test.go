package mongodb_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/mongodb"
)

// Example runs a keycard Manager on MongoDB: the application makes and
// owns the client, the store creates its indexes at startup, and a
// handler counts a visitor's requests in the session.
func Example() {
	ctx := context.Background()
	uri := os.Getenv("KEYCARD_MONGODB_URL")
	if uri == "" {
		uri = "mongodb://127.0.0.1:27017"
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Disconnect(ctx)

	// Production code keeps the default collection, keycard_sessions; the
	// example uses one of its own and drops it at the end.
	collection := fmt.Sprintf("keycard_example_%d", time.Now().UnixNano())
	db := client.Database("keycard_test")
	defer db.Collection(collection).Drop(ctx)
	defer db.Collection(collection + "_locks").Drop(ctx)
	st, err := mongodb.New(db, mongodb.Config{Collection: collection})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := st.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}

	m, err := keycard.New(keycard.Config{Store: st, Keys: []keycard.Key{keycard.NewKey()}})
	if err != nil {
		fmt.Println(err)
		return
	}
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := keycard.Update(r.Context(), keycard.FromContext(r.Context()), "visits", func(n int) int { return n + 1 })
		if err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "visit %d", n)
	})
	ts := httptest.NewTLSServer(m.Handler(count))
	defer ts.Close()

	browser := ts.Client()
	browser.Jar, _ = cookiejar.New(nil)
	for range 3 {
		res, err := browser.Get(ts.URL)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(strings.TrimSpace(string(body)))
	}
	// Output:
	// visit 1
	// visit 2
	// visit 3
}
