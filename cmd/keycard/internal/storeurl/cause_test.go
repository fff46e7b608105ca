package storeurl

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// liteError is an error with an SQLite result code, as modernc.org/sqlite
// returns.
type liteError struct {
	code int
	msg  string
}

func (e *liteError) Error() string { return e.msg }
func (e *liteError) Code() int     { return e.code }

func TestCauseOf(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("some store: op: %w", err) }
	for _, tt := range []struct {
		err  error
		want Cause
	}{
		{nil, CauseUnknown},
		{errors.New("something"), CauseUnknown},
		{wrap(&pgconn.PgError{Code: "42P01"}), CauseNoTable},
		{wrap(&pgconn.PgError{Code: "28P01"}), CauseAuth},
		{wrap(&pgconn.PgError{Code: "28000"}), CauseAuth},
		{wrap(&pgconn.PgError{Code: "3D000"}), CauseNoDatabase},
		{wrap(&pgconn.PgError{Code: "42501"}), CausePrivilege},
		{wrap(&pgconn.PgError{Code: "25006"}), CauseReadOnly},
		{wrap(&pgconn.PgError{Code: "3F000"}), CauseUnknown}, // no schema to create in: not for migrate
		{wrap(&pgconn.PgError{Code: "23505"}), CauseUnknown},
		{wrap(&mysql.MySQLError{Number: 1146}), CauseNoTable},
		{wrap(&mysql.MySQLError{Number: 1045}), CauseAuth},
		{wrap(&mysql.MySQLError{Number: 1049}), CauseNoDatabase},
		{wrap(&mysql.MySQLError{Number: 1044}), CausePrivilege},
		{wrap(&mysql.MySQLError{Number: 1142}), CausePrivilege},
		{wrap(&mysql.MySQLError{Number: 1290}), CauseReadOnly},
		{wrap(&mysql.MySQLError{Number: 1062}), CauseUnknown},
		{wrap(&liteError{1, "SQL logic error: no such table: keycard_sessions (1)"}), CauseNoTable},
		{wrap(&liteError{1, "SQL logic error: near \"x\": syntax error (1)"}), CauseUnknown},
		{wrap(&liteError{26, "file is not a database (26)"}), CauseNotSQLite},
		{wrap(&liteError{11, "database disk image is malformed (11)"}), CauseCorrupt},
		{wrap(&liteError{8 | 3<<8, "attempt to write a readonly database (776)"}), CauseReadOnly},
		{wrap(&liteError{14, "unable to open database file (14)"}), CauseCantOpen},
		{wrap(&liteError{3, "access permission denied (3)"}), CausePermission},
		{wrap(&liteError{5, "database is locked (5)"}), CauseUnknown},
		{wrap(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), CauseRefused},
		{wrap(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}), CauseNoRoute},
		{wrap(&net.DNSError{Err: "no such host", Name: "db.invalid", IsNotFound: true}), CauseNoHost},
		{wrap(&net.DNSError{Err: "i/o timeout", Name: "db.example", IsTimeout: true}), CauseTimeout},
		{wrap(context.DeadlineExceeded), CauseTimeout},
		{wrap(&fs.PathError{Op: "open", Path: "x.db", Err: syscall.EACCES}), CausePermission},
		{wrap(&fs.PathError{Op: "open", Path: "x.db", Err: syscall.EROFS}), CauseReadOnly},
	} {
		if got := CauseOf(tt.err); got != tt.want {
			t.Errorf("CauseOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestCauseOfSQLite checks the causes of real SQLite failures: a file
// that is not a database, and a database without the sessions table.
func TestCauseOfSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	notes := filepath.Join(dir, "notes.db")
	if err := os.WriteFile(notes, []byte("these are notes, not a database\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, _ := Parse("sqlite:" + notes)
	_, err := Open(ctx, u, Options{MustExist: true})
	if c := CauseOf(err); c != CauseNotSQLite || !errors.Is(err, ErrUnavailable) {
		t.Errorf("a text file: cause %d, error %v", c, err)
	}

	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	u, _ = Parse("sqlite:" + empty)
	h, err := Open(ctx, u, Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, err = h.Store.Load(ctx, "0000000000000000000000000000000000000000000000000000000000000000")
	if c := CauseOf(err); c != CauseNoTable {
		t.Errorf("a database without the table: cause %d, error %v", c, err)
	}
}

func TestMigrateSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	u, _ := Parse("sqlite:" + path)

	m, err := Migrate(ctx, u, Options{})
	if err != nil || m != (Migration{Table: "keycard_sessions", Created: true, NewFile: true}) {
		t.Fatalf("first Migrate: %+v, %v", m, err)
	}
	m, err = Migrate(ctx, u, Options{})
	if err != nil || m != (Migration{Table: "keycard_sessions"}) {
		t.Fatalf("second Migrate: %+v, %v", m, err)
	}
	h, err := Open(ctx, u, Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := h.Store.Load(ctx, "0000000000000000000000000000000000000000000000000000000000000000"); err == nil || CauseOf(err) == CauseNoTable {
		t.Errorf("after Migrate, Load: %v", err)
	}

	// A missing directory: nothing is created.
	u, _ = Parse("sqlite:" + filepath.Join(dir, "no", "s.db"))
	if _, err := Migrate(ctx, u, Options{}); !errors.Is(err, ErrNoDirectory) {
		t.Errorf("in a missing directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Migrate created the missing directory: %v", err)
	}
	// A directory.
	u, _ = Parse("sqlite:" + dir)
	if _, err := Migrate(ctx, u, Options{}); !errors.Is(err, ErrIsDirectory) {
		t.Errorf("a directory: %v", err)
	}
}

func TestMigrateWithoutSchema(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"memory:", "redis://127.0.0.1:1/0"} {
		u, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		// Redis at port 1 is not there: Migrate must not connect.
		if m, err := Migrate(context.Background(), u, Options{}); err != nil || m != (Migration{}) {
			t.Errorf("%s: %+v, %v", raw, m, err)
		}
	}
}

func TestURLParts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, addr, db, user string
		password           bool
	}{
		{"postgres://app:s3cret@db:5433/sessions", "db:5433", "sessions", "app", true},
		{"postgres://app@db/sessions", "db:5432", "sessions", "app", false},
		{"mysql://app:s3cret@db/sessions", "db:3306", "sessions", "app", true},
		{"mysql://app@tcp(db:3307)/sessions", "db:3307", "sessions", "app", false},
		{"redis://u:s3cret@cache:6380/0", "cache:6380", "", "u", true},
		{"sqlite:x.db", "", "", "", false},
	} {
		u, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if u.Addr() != tt.addr || u.Database() != tt.db || u.User() != tt.user || u.HasPassword() != tt.password {
			t.Errorf("%s: Addr %q, Database %q, User %q, HasPassword %v", tt.in, u.Addr(), u.Database(), u.User(), u.HasPassword())
		}
	}
}
