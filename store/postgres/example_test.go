package postgres_test

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

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/postgres"
)

// Example runs a keycard Manager on PostgreSQL: the application makes and
// owns the pool, the store runs its migration at startup, and a handler
// counts a visitor's requests in the session.
func Example() {
	ctx := context.Background()
	dsn := os.Getenv("KEYCARD_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	// Production code keeps the default table, keycard_sessions; the
	// example uses a table of its own and drops it at the end.
	table := fmt.Sprintf("keycard_example_%d", time.Now().UnixNano())
	defer pool.Exec(ctx, "DROP TABLE IF EXISTS "+table)
	st, err := postgres.New(pool, postgres.Config{Table: table})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := st.Migrate(ctx); err != nil {
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

	client := ts.Client()
	client.Jar, _ = cookiejar.New(nil)
	for range 3 {
		res, err := client.Get(ts.URL)
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

// ExampleSchema prints the SQL that Migrate runs, for teams that run
// migrations with their own tools.
func ExampleSchema() {
	ddl, err := postgres.Schema("auth.sessions")
	if err != nil {
		panic(err)
	}
	fmt.Print(ddl)
	// Output:
	// CREATE TABLE IF NOT EXISTS "auth"."sessions" (
	// 	key        text    PRIMARY KEY,
	// 	version    bigint  NOT NULL,
	// 	user_id    text    NOT NULL,
	// 	created    bigint  NOT NULL,
	// 	last_seen  bigint  NOT NULL,
	// 	auth_time  bigint  NOT NULL,
	// 	expires    bigint  NOT NULL,
	// 	deadline   bigint  NOT NULL,
	// 	persistent boolean NOT NULL,
	// 	ip         text    NOT NULL,
	// 	user_agent text    NOT NULL,
	// 	data       bytea   NOT NULL
	// );
	// CREATE INDEX IF NOT EXISTS "sessions_user_id_idx" ON "auth"."sessions" (user_id) WHERE user_id <> '';
	// CREATE INDEX IF NOT EXISTS "sessions_expiry_idx" ON "auth"."sessions" ((least(expires, deadline)));
}
