package sqlite

import "strings"

// columns are the record's columns after key, in the order every statement
// reads and writes them.
const columns = "version, user_id, created, last_seen, auth_time, expires, deadline, persistent, ip, user_agent, data"

// statements are the statements of a Store, built once for its table and
// prepared on first use. Each method runs exactly one of them (Sweep one
// per batch).
type statements struct {
	statementSet
	load       *prepared
	create     *prepared
	update     *prepared
	delete     *prepared
	touch      *prepared
	listUser   *prepared
	scan       *prepared
	countAnon  *prepared
	deleteUser *prepared
	sweep      *prepared
	schema     string
}

// live is true for a record unexpired at the time bound to param. It is
// the negation of the expression the expiry index is built on.
func live(param string) string {
	return "min(expires, deadline) > " + param
}

// newStatements returns the statements for table, which withDefaults has
// accepted.
func newStatements(table string) *statements {
	r := names(table)
	var all []*prepared
	prep := func(text string) *prepared {
		p := &prepared{text: r.Replace(text)}
		all = append(all, p)
		return p
	}
	ss := &statements{
		load: prep(`SELECT ` + columns + ` FROM {t} WHERE key = ?1 AND ` + live("?2")),

		// An expired record counts as absent, so a create may overwrite
		// it: ON CONFLICT updates the row only if it has expired, and
		// otherwise changes no row, which Save reports as a conflict.
		create: prep(`INSERT INTO {t} (key, ` + columns + `)
VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT (key) DO UPDATE SET version = 1, user_id = excluded.user_id,
	created = excluded.created, last_seen = excluded.last_seen, auth_time = excluded.auth_time,
	expires = excluded.expires, deadline = excluded.deadline, persistent = excluded.persistent,
	ip = excluded.ip, user_agent = excluded.user_agent, data = excluded.data
WHERE min({t}.expires, {t}.deadline) <= ?12`),

		update: prep(`UPDATE {t} SET version = version + 1, user_id = ?3,
	created = ?4, last_seen = ?5, auth_time = ?6, expires = ?7, deadline = ?8,
	persistent = ?9, ip = ?10, user_agent = ?11, data = ?12
WHERE key = ?1 AND version = ?2 AND ` + live("?13")),

		delete: prep(`DELETE FROM {t} WHERE key = ?1`),

		touch: prep(`UPDATE {t} SET last_seen = ?2, expires = ?3 WHERE key = ?1 AND ` + live("?4")),

		// user_id <> '' lets the planner use the partial index, and keeps
		// anonymous sessions out of every user's list.
		listUser:  prep(`SELECT key, ` + columns + ` FROM {t} WHERE user_id = ?1 AND user_id <> '' AND ` + live("?2")),
		scan:      prep(`SELECT key, ` + columns + ` FROM {t} WHERE key > ?1 AND ` + live("?2") + ` ORDER BY key LIMIT ?3`),
		countAnon: prep(`SELECT COUNT(*) FROM {t} WHERE user_id = '' AND ` + live("?1")),

		// SQLite has no DELETE in a WITH clause; Store.DeleteUser counts
		// the live rows among those returned.
		deleteUser: prep(`DELETE FROM {t} WHERE user_id = ?1 AND user_id <> '' RETURNING ` + live("?2")),

		// The rows are found through the expiry index, whose expression
		// the subquery repeats exactly; SQLite has no DELETE ... LIMIT
		// unless built with an option.
		sweep: prep(`DELETE FROM {t} WHERE rowid IN (
	SELECT rowid FROM {t} WHERE min(expires, deadline) <= ?1 LIMIT ?2)`),

		schema: r.Replace(schemaTemplate),
	}
	ss.all = all
	return ss
}

// names returns the replacer that puts the quoted names of table and its
// indexes into statements and schemaTemplate.
func names(table string) *strings.Replacer {
	return strings.NewReplacer("{t}", quote(table), "{user_idx}", quote(table+"_user_id_idx"), "{expiry_idx}", quote(table+"_expiry_idx"))
}

// schemaTemplate is the schema with {t}, {user_idx} and {expiry_idx} for
// the quoted names of the table and its indexes.
const schemaTemplate = `CREATE TABLE IF NOT EXISTS {t} (
	key        TEXT    NOT NULL PRIMARY KEY,
	version    INTEGER NOT NULL,
	user_id    TEXT    NOT NULL,
	created    INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	auth_time  INTEGER NOT NULL,
	expires    INTEGER NOT NULL,
	deadline   INTEGER NOT NULL,
	persistent INTEGER NOT NULL,
	ip         TEXT    NOT NULL,
	user_agent TEXT    NOT NULL,
	data       BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS {user_idx} ON {t} (user_id) WHERE user_id <> '';
CREATE INDEX IF NOT EXISTS {expiry_idx} ON {t} (min(expires, deadline));
`

// quote returns name as a quoted identifier. Names are validated lowercase
// identifiers, so quoting changes nothing but lets reserved words through.
func quote(name string) string {
	return `"` + name + `"`
}
