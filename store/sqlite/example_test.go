package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/sqlite"
)

// Example keeps sessions in a database file, so they survive a restart of
// the server: the second server, on the same file and with the same key,
// continues the visitor's count.
func Example() {
	dir, err := os.MkdirTemp("", "keycard-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sessions.db")
	// In production the key comes from a secret store, not NewKey, so
	// that cookies stay valid across restarts.
	key := keycard.NewKey()
	jar, _ := cookiejar.New(nil)

	for _, server := range []string{"first", "restarted"} {
		st, err := sqlite.Open(path, sqlite.Config{})
		if err != nil {
			panic(err)
		}
		m, err := keycard.New(keycard.Config{Store: st, Keys: []keycard.Key{key}})
		if err != nil {
			panic(err)
		}
		ts := httptest.NewTLSServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, err := keycard.Update(r.Context(), keycard.FromContext(r.Context()), "visits",
				func(n int) int { return n + 1 })
			if err != nil {
				http.Error(w, "unavailable", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintf(w, "%s server: visit %d", server, n)
		})))
		client := ts.Client()
		client.Jar = jar
		for range 2 {
			res, err := client.Get(ts.URL)
			if err != nil {
				panic(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			fmt.Println(strings.TrimSpace(string(b)))
		}
		ts.Close()
		st.Close()
	}
	// Output:
	// first server: visit 1
	// first server: visit 2
	// restarted server: visit 3
	// restarted server: visit 4
}

// ExampleNew uses a *sql.DB of the application's own, opened with the
// settings of DSN, and creates the table with Migrate: New alone does not
// touch the database.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "keycard-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, "app.db"), sqlite.Config{}))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(8)

	st, err := sqlite.New(db, sqlite.Config{Table: "web_sessions"})
	if err != nil {
		panic(err)
	}
	defer st.Close() // leaves db open
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if err := st.Migrate(ctx); err != nil {
		panic(err)
	}

	// Sweep deletes expired sessions; call it every few minutes.
	go func() {
		tick := time.NewTicker(5 * time.Minute)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				st.Sweep(ctx)
			}
		}
	}()

	var tables []string
	rows, _ := db.Query("SELECT name FROM sqlite_schema WHERE type = 'table'")
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	fmt.Println(tables)
	// Output: [web_sessions]
}

// ExampleSchema prints the SQL that Migrate runs, for teams that run
// migrations with their own tools.
func ExampleSchema() {
	ddl, err := sqlite.Schema("web_sessions")
	if err != nil {
		panic(err)
	}
	fmt.Print(ddl)
	// Output:
	// CREATE TABLE IF NOT EXISTS "web_sessions" (
	// 	key        TEXT    NOT NULL PRIMARY KEY,
	// 	version    INTEGER NOT NULL,
	// 	user_id    TEXT    NOT NULL,
	// 	created    INTEGER NOT NULL,
	// 	last_seen  INTEGER NOT NULL,
	// 	auth_time  INTEGER NOT NULL,
	// 	expires    INTEGER NOT NULL,
	// 	deadline   INTEGER NOT NULL,
	// 	persistent INTEGER NOT NULL,
	// 	ip         TEXT    NOT NULL,
	// 	user_agent TEXT    NOT NULL,
	// 	data       BLOB    NOT NULL
	// );
	// CREATE INDEX IF NOT EXISTS "web_sessions_user_id_idx" ON "web_sessions" (user_id) WHERE user_id <> '';
	// CREATE INDEX IF NOT EXISTS "web_sessions_expiry_idx" ON "web_sessions" (min(expires, deadline));
}
