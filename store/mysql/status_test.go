package mysql_test

import (
	"context"
	"database/sql"
	"testing"
)

// statusCounters are the server's per-connection counters that the tests
// read: Questions counts every statement a client sent, the others count
// statements by kind.
var statusCounters = []string{
	"Questions", "Com_select", "Com_insert", "Com_update", "Com_delete",
	"Com_stmt_prepare", "Com_stmt_execute",
}

// sessionStatus reads statusCounters from the connection of db, which must
// be a pool of one connection so that it is the connection the store used.
// The SHOW statement counts itself in Questions, so the difference between
// two readings is one more than the statements sent between them; diff
// takes that one off.
func sessionStatus(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	if n := db.Stats().MaxOpenConnections; n != 1 {
		t.Fatalf("sessionStatus needs a pool of one connection, not %d", n)
	}
	rows, err := db.QueryContext(context.Background(), "SHOW SESSION STATUS WHERE Variable_name IN "+
		"('Questions', 'Com_select', 'Com_insert', 'Com_update', 'Com_delete', 'Com_stmt_prepare', 'Com_stmt_execute')")
	if err != nil {
		t.Fatalf("SHOW SESSION STATUS: %v", err)
	}
	defer rows.Close()
	status := make(map[string]int64)
	for rows.Next() {
		var name string
		var value int64
		if err := rows.Scan(&name, &value); err != nil {
			t.Fatalf("SHOW SESSION STATUS: %v", err)
		}
		status[name] = value
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("SHOW SESSION STATUS: %v", err)
	}
	for _, name := range statusCounters {
		if _, ok := status[name]; !ok {
			t.Fatalf("SHOW SESSION STATUS: no %s", name)
		}
	}
	return status
}

// diff returns how much each counter grew from before to after, not
// counting the SHOW statement that read after.
func diff(before, after map[string]int64) map[string]int64 {
	d := make(map[string]int64, len(after))
	for name, v := range after {
		d[name] = v - before[name]
	}
	d["Questions"]--
	return d
}
