package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestStatementsUseTheIndexes checks SQLite's query plan for each
// statement that finds rows: none scans the table.
func TestStatementsUseTheIndexes(t *testing.T) {
	t.Parallel()
	s, err := Open(filepath.Join(t.TempDir(), "plan.db"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		name  string
		p     *prepared
		index string
	}{
		{"load", s.sql.load, "sqlite_autoindex_keycard_sessions_1 (key=?)"},
		{"update", s.sql.update, "sqlite_autoindex_keycard_sessions_1 (key=?)"},
		{"touch", s.sql.touch, "sqlite_autoindex_keycard_sessions_1 (key=?)"},
		{"delete", s.sql.delete, "sqlite_autoindex_keycard_sessions_1 (key=?)"},
		{"list user", s.sql.listUser, "keycard_sessions_user_id_idx (user_id=?)"},
		{"delete user", s.sql.deleteUser, "keycard_sessions_user_id_idx (user_id=?)"},
		{"sweep", s.sql.sweep, "keycard_sessions_expiry_idx (<expr><?)"},
	} {
		rows, err := s.db.Query("EXPLAIN QUERY PLAN "+c.p.text, make([]any, strings.Count(c.p.text, "?"))...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		t.Logf("%s: %s", c.name, all)
		if !strings.Contains(all, c.index) || strings.Contains(all, "SCAN keycard_sessions") {
			t.Errorf("%s: got plan %q, want it to use %s and scan nothing", c.name, all, c.index)
		}
	}
}
