package postgres

import "strings"

// columns are the record's columns after key, in the order every statement
// reads and writes them.
const columns = "version, user_id, created, last_seen, auth_time, expires, deadline, persistent, ip, user_agent, data"

// statements are the SQL texts of a Store, built once for its table. Each
// method runs exactly one of them, so each is one round trip: pgx prepares
// a text the first time a connection runs it and then reuses it.
type statements struct {
	load       string
	create     string
	update     string
	delete     string
	touch      string
	listUser   string
	scan       string
	countAnon  string
	deleteUser string
	sweep      string
	schema     string
}

// newStatements returns the statements for table, which tableRule has
// accepted.
func newStatements(table string) statements {
	// live is true for a record unexpired at $now.
	live := func(now string) string { return "expires > " + now + " AND deadline > " + now }
	r := names(table)
	return statements{
		load: r.Replace(`SELECT ` + columns + ` FROM {t} WHERE key = $1 AND ` + live("$2")),

		// An expired record counts as absent, so a create may overwrite
		// it: ON CONFLICT updates the row only if it has expired, and
		// otherwise affects no row, which Save reports as a conflict.
		create: r.Replace(`INSERT INTO {t} AS t (key, ` + columns + `)
VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (key) DO UPDATE SET version = 1, user_id = excluded.user_id,
	created = excluded.created, last_seen = excluded.last_seen, auth_time = excluded.auth_time,
	expires = excluded.expires, deadline = excluded.deadline, persistent = excluded.persistent,
	ip = excluded.ip, user_agent = excluded.user_agent, data = excluded.data
WHERE t.expires <= $12 OR t.deadline <= $12`),

		update: r.Replace(`UPDATE {t} SET version = version + 1, user_id = $3,
	created = $4, last_seen = $5, auth_time = $6, expires = $7, deadline = $8,
	persistent = $9, ip = $10, user_agent = $11, data = $12
WHERE key = $1 AND version = $2 AND ` + live("$13")),

		delete: r.Replace(`DELETE FROM {t} WHERE key = $1`),

		touch: r.Replace(`UPDATE {t} SET last_seen = $2, expires = $3 WHERE key = $1 AND ` + live("$4")),

		// user_id <> '' lets the planner use the partial index, and keeps
		// anonymous sessions out of every user's list.
		listUser:  r.Replace(`SELECT key, ` + columns + ` FROM {t} WHERE user_id = $1 AND user_id <> '' AND ` + live("$2")),
		scan:      r.Replace(`SELECT key, ` + columns + ` FROM {t} WHERE ` + live("$1")),
		countAnon: r.Replace(`SELECT count(*) FROM {t} WHERE user_id = '' AND ` + live("$1")),

		deleteUser: r.Replace(`WITH gone AS (DELETE FROM {t} WHERE user_id = $1 AND user_id <> '' RETURNING expires, deadline)
SELECT count(*) FROM gone WHERE ` + live("$2")),

		// The keys are found through the expiry index and chosen once
		// (ARRAY(...) is an init plan); rows that another sweep or a
		// save has locked are skipped, so a sweep never waits.
		sweep: r.Replace(`DELETE FROM {t} WHERE key = ANY (ARRAY(
	SELECT key FROM {t} WHERE least(expires, deadline) <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`),

		schema: r.Replace(schemaTemplate),
	}
}

// names returns the replacer that puts the quoted names of table, which
// tableRule has accepted, and of its indexes into statements and
// schemaTemplate. The indexes are in the table's schema, named after the
// table's own name.
func names(table string) *strings.Replacer {
	t, name := quote(table), table
	if schema, n, ok := strings.Cut(table, "."); ok {
		t, name = quote(schema)+"."+quote(n), n
	}
	return strings.NewReplacer("{t}", t, "{user_idx}", quote(name+"_user_id_idx"), "{expiry_idx}", quote(name+"_expiry_idx"))
}

// schemaTemplate is the schema with {t}, {user_idx} and {expiry_idx} for
// the quoted names of the table and its indexes.
const schemaTemplate = `CREATE TABLE IF NOT EXISTS {t} (
	key        text    PRIMARY KEY,
	version    bigint  NOT NULL,
	user_id    text    NOT NULL,
	created    bigint  NOT NULL,
	last_seen  bigint  NOT NULL,
	auth_time  bigint  NOT NULL,
	expires    bigint  NOT NULL,
	deadline   bigint  NOT NULL,
	persistent boolean NOT NULL,
	ip         text    NOT NULL,
	user_agent text    NOT NULL,
	data       bytea   NOT NULL
);
CREATE INDEX IF NOT EXISTS {user_idx} ON {t} (user_id) WHERE user_id <> '';
CREATE INDEX IF NOT EXISTS {expiry_idx} ON {t} ((least(expires, deadline)));
`

// quote returns name as a quoted identifier. Names are validated lowercase
// identifiers, so quoting changes nothing but lets reserved words through.
func quote(name string) string {
	return `"` + name + `"`
}
