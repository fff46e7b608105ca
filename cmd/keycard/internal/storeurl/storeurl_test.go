package storeurl

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, kind, shown string
	}{
		{"memory:", Memory, "memory:"},
		{"sqlite:keycard-demo.db", SQLite, "sqlite:keycard-demo.db"},
		{"sqlite:///var/lib/keycard/s.db", SQLite, "sqlite:/var/lib/keycard/s.db"},
		{"redis://127.0.0.1:6379/2", Redis, "redis://127.0.0.1:6379/2"},
		{"redis://:s3cret@127.0.0.1:6379/0", Redis, "redis://:xxxxx@127.0.0.1:6379/0"},
		{"postgres://app:s3cret@db:5432/app?sslmode=require", Postgres, "postgres://app:xxxxx@db:5432/app?sslmode=require"},
		{"postgresql://app@db/app", Postgres, "postgresql://app@db/app"},
		{"mysql://app:s3cret@db:3306/app", MySQL, "mysql://app:xxxxx@tcp(db:3306)/app"},
		{"mysql://app@db/app?parseTime=true", MySQL, "mysql://app@tcp(db:3306)/app?parseTime=true"},
		{"mysql://app:s3cret@tcp(db:3307)/app", MySQL, "mysql://app:xxxxx@tcp(db:3307)/app"},
		{"memcached://10.0.0.5:11211", Memcached, "memcached://10.0.0.5:11211"},
		{"memcached://cache-a,cache-b:11212/", Memcached, "memcached://cache-a:11211,cache-b:11212"},
		{"memcache://[::1]:11211,[::1]", Memcached, "memcached://[::1]:11211,[::1]:11211"},
		{"mongodb://app:s3cret@db1:27017,db2:27017/app?replicaSet=rs0", MongoDB, "mongodb://app:xxxxx@db1:27017,db2:27017/app?replicaSet=rs0"},
		{"mongodb://127.0.0.1:27017/app", MongoDB, "mongodb://127.0.0.1:27017/app"},
	}
	for _, tt := range tests {
		u, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if u.Kind != tt.kind || u.String() != tt.shown {
			t.Errorf("Parse(%q) = %s %q, want %s %q", tt.in, u.Kind, u.String(), tt.kind, tt.shown)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "keycard.db", "bogus://x", "memory:x", "sqlite:", "sqlite://",
		"redis://h:port/0", "redis://h/0/1", "postgres://u:s3cret@h:port/db",
		"mysql://u:s3cret@h", "mysql://u:s3cret@h/", "mysql:u:s3cret@h/db", "mysql://u:s3cret@tcp(h)/",
		"memcached:", "memcached://", "memcached:h:11211", "memcached://u:s3cret@h:11211", "memcached://h:11211/0",
		"memcached://h:11211?timeout=1s", "memcached://h:0", "memcached://h:x", "memcached://h,,k", "memcached://::1",
		"mongodb://h:27017", "mongodb://u:s3cret@h:27017/", "mongodb://u:s3cret@h:port/db", "mongodb://h/db?maxPoolSize=x",
	} {
		_, err := Parse(in)
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): got %v, want ErrSyntax", in, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%q): the error shows the password: %v", in, err)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	u, _ := Parse("sqlite:" + path)
	if _, err := Open(ctx, u, Options{MustExist: true}); !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("MustExist on a missing file: %v", err)
	}
	h, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, capability := range []bool{isUserIndex(h.Store), isSweeper(h.Store)} {
		if !capability {
			t.Error("the SQLite store lacks a capability it has")
		}
	}
	if _, err := Open(ctx, u, Options{MustExist: true}); err != nil {
		t.Errorf("MustExist on an existing file: %v", err)
	}
}

func isUserIndex(s store.Store) bool { _, ok := s.(store.UserIndex); return ok }
func isSweeper(s store.Store) bool   { _, ok := s.(store.Sweeper); return ok }

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, raw := range []string{
		"redis://127.0.0.1:1/0",
		"postgres://u:s3cret@127.0.0.1:1/db",
		"mysql://u:s3cret@127.0.0.1:1/db",
		"memcached://127.0.0.1:1",
		"mongodb://u:s3cret@127.0.0.1:1/db",
	} {
		u, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = Open(ctx, u, Options{Timeout: 2 * time.Second})
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: got %v, want ErrUnavailable", raw, err)
		}
		if err != nil && (strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n")) {
			t.Errorf("%s: error shows the password or spans lines: %q", raw, err)
		}
		// A refused connection fails at once (logged); Open may retry
		// within its 2 s Timeout, and must not go on past it: 10 s is a
		// margin no loaded machine comes near.
		d := time.Since(start)
		t.Logf("%s: unavailable after %v", raw, d)
		if d > 10*time.Second {
			t.Errorf("%s: took %v, want it to give up within its 2 s Timeout", raw, d)
		}
	}
}

// TestParseErrorSaysWhy: a PostgreSQL URL the driver cannot parse gets
// the driver's reason alone, not its nested quotation of the URL.
func TestParseErrorSaysWhy(t *testing.T) {
	t.Parallel()
	_, err := Parse("postgres://u:s3cret@h/%zz")
	const why = `: failed to parse as URL (invalid percent-encoded token: "%zz")`
	if err == nil || !strings.HasSuffix(err.Error(), why) || strings.Count(err.Error(), "%zz") != 2 || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("got %v, want the masked URL, then the driver's reason %s", err, why)
	}
}
