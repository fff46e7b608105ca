package storeurl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/keycard-go/keycard/store"
	mongostore "github.com/keycard-go/keycard/store/mongodb"
	mysqlstore "github.com/keycard-go/keycard/store/mysql"
	pgstore "github.com/keycard-go/keycard/store/postgres"
	"github.com/keycard-go/keycard/store/sqlite"
)

// A Migration reports what Migrate did.
type Migration struct {
	// Table is the sessions table (the collection, for MongoDB), or ""
	// for a store without a schema (memory, Redis, memcached).
	Table string
	// Created reports that the table did not exist, and now does.
	Created bool
	// NewFile reports that the SQLite database file did not exist, and
	// now does.
	NewFile bool
	// NoTTL reports that a MongoDB store's server has no TTL indexes
	// (FerretDB 1.x), so that expired sessions stay until swept.
	NoTTL bool
}

// Migrate creates the schema of the store u names, if it has one: the
// sessions table and its indexes of an SQL store (and an SQLite database
// file, in a directory that exists). It is idempotent: on a store whose
// table exists it creates only missing indexes. A store without a schema
// is not contacted. Its errors never include a password.
func Migrate(ctx context.Context, u *URL, opt Options) (Migration, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	opt.Migrate, opt.MustExist = false, false
	switch u.Kind {
	case SQLite:
		return migrateSQLite(ctx, u, opt)
	case Postgres, MySQL:
		return migrate(ctx, u, opt)
	case MongoDB:
		return migrateMongoDB(ctx, u, opt)
	}
	return Migration{}, nil
}

// migrateMongoDB creates the indexes of a MongoDB store's collection,
// after asking whether the collection exists.
func migrateMongoDB(ctx context.Context, u *URL, opt Options) (Migration, error) {
	h, err := Open(ctx, u, opt)
	if err != nil {
		return Migration{}, err
	}
	defer h.Close()
	st := h.Store.(*mongostore.Store)
	coll := st.Collection()
	m := Migration{Table: coll.Name()}
	mctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	names, err := coll.Database().ListCollectionNames(mctx, bson.D{{Key: "name", Value: coll.Name()}})
	if err != nil {
		return m, &migrateError{u, err}
	}
	m.Created = len(names) == 0
	ttl, err := st.Migrate(mctx)
	if err != nil {
		return m, &migrateError{u, err}
	}
	m.NoTTL = !ttl
	return m, nil
}

func migrateSQLite(ctx context.Context, u *URL, opt Options) (Migration, error) {
	if err := checkSQLiteFile(u, false); err != nil {
		return Migration{}, err
	}
	_, err := os.Stat(u.Path)
	newFile := err != nil
	m, err := migrate(ctx, u, opt)
	if err != nil {
		if newFile {
			removeEmpty(u.Path)
		}
		return Migration{}, err
	}
	m.NewFile = newFile
	return m, nil
}

// removeEmpty removes the file at path, and the files SQLite keeps beside
// it, if it is empty: what a failed first open leaves.
func removeEmpty(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
		os.Remove(path)
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
	}
}

// sqlStore is the shape the SQL stores (sqlite, postgres, mysql) share
// for their schema, beside the package function Schema(table).
type sqlStore interface {
	Table() string
	Migrate(ctx context.Context) error
}

var (
	_ sqlStore = (*sqlite.Store)(nil)
	_ sqlStore = (*pgstore.Store)(nil)
	_ sqlStore = (*mysqlstore.Store)(nil)
)

// migrate migrates an SQL store, after probing whether its table exists.
func migrate(ctx context.Context, u *URL, opt Options) (Migration, error) {
	h, err := Open(ctx, u, opt)
	if err != nil {
		return Migration{}, err
	}
	defer h.Close()
	mig, ok := h.Store.(sqlStore)
	if !ok {
		return Migration{}, fmt.Errorf("%s store: no Migrate method", u.Kind)
	}
	m := Migration{Table: mig.Table()}
	mctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	// A load of a key no session has fails only if the table is missing.
	_, err = h.Store.Load(mctx, strings.Repeat("0", 64))
	switch {
	case CauseOf(err) == CauseNoTable:
		m.Created = true
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return m, &migrateError{u, err}
	}
	if err := mig.Migrate(mctx); err != nil {
		return m, &migrateError{u, err}
	}
	return m, nil
}

// migrateError is a failure of Migrate on an open store.
type migrateError struct {
	u     *URL
	cause error
}

func (e *migrateError) Error() string {
	return scrub("cannot migrate "+e.u.String()+": "+oneLine(e.cause.Error()), e.u.password)
}

func (e *migrateError) Unwrap() error { return e.cause }
