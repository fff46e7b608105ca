package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"

	_ "github.com/go-sql-driver/mysql"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/mysql"
)

// exampleDSN is where the examples find the server: $KEYCARD_MYSQL_DSN,
// or the local test server.
var exampleDSN = func() string {
	if dsn := os.Getenv("KEYCARD_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "root@tcp(127.0.0.1:3306)/test"
}()

// Example shares sessions between instances through MySQL or MariaDB: the
// store takes the program's own pool, creates its table, and backs a
// Manager whose Keys every instance shares.
func Example() {
	// Any DSN works: the store sends each operation as one plain SQL
	// statement, whatever interpolateParams or clientFoundRows say.
	db, err := sql.Open("mysql", exampleDSN)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(20) // stay well below the server's max_connections

	table := fmt.Sprintf("keycard_example_%d", os.Getpid())
	st, err := mysql.New(db, mysql.Config{Table: table})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer db.Exec("DROP TABLE " + table) // an example cleans up; a program keeps its sessions

	// Every instance must share the signing keys, as they share the store.
	m, err := keycard.New(keycard.Config{Store: st, Keys: []keycard.Key{keycard.NewKey()}})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/visit", func(w http.ResponseWriter, r *http.Request) {
		n, err := keycard.Update(r.Context(), keycard.FromContext(r.Context()), "visits", func(n int) int { return n + 1 })
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "visit %d", n)
	})
	ts := httptest.NewTLSServer(m.Handler(mux))
	defer ts.Close()

	get := browser(ts)
	fmt.Println(get("/visit"))
	fmt.Println(get("/visit"))

	// Expired sessions stay in the table, absent to every method, until
	// swept: call Sweep now and then, say hourly from one instance.
	n, err := st.Sweep(ctx)
	fmt.Println("swept", n, err)
	// Output:
	// visit 1
	// visit 2
	// swept 0 <nil>
}

// browser returns a function that gets a path from ts with a cookie jar,
// as a browser would.
func browser(ts *httptest.Server) func(path string) string {
	jar, _ := cookiejar.New(nil)
	c := ts.Client()
	c.Jar = jar
	return func(path string) string {
		res, err := c.Get(ts.URL + path)
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return strings.TrimSpace(string(b))
	}
}

// ExampleSchema prints the table for teams that run migrations with
// their own tools.
func ExampleSchema() {
	ddl, err := mysql.Schema("sessions")
	if err != nil {
		panic(err)
	}
	fmt.Println(ddl)
	// Output:
	// CREATE TABLE IF NOT EXISTS `sessions` (
	//   `session_key` VARBINARY(255) NOT NULL,
	//   `version` BIGINT UNSIGNED NOT NULL,
	//   `user_id` VARBINARY(255) NOT NULL,
	//   `created` BIGINT NOT NULL,
	//   `last_seen` BIGINT NOT NULL,
	//   `auth_time` BIGINT NOT NULL,
	//   `expires` BIGINT NOT NULL,
	//   `deadline` BIGINT NOT NULL,
	//   `live_until` BIGINT NOT NULL,
	//   `persistent` TINYINT NOT NULL,
	//   `touched` TINYINT NOT NULL,
	//   `ip` VARBINARY(255) NOT NULL,
	//   `user_agent` VARBINARY(1024) NOT NULL,
	//   `data` LONGBLOB NOT NULL,
	//   PRIMARY KEY (`session_key`),
	//   KEY `user_id` (`user_id`),
	//   KEY `live_until` (`live_until`)
	// ) ENGINE=InnoDB
}
