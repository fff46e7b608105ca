package storeurl

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/rueidis"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// A Cause is why an operation on a store failed, as far as its driver
// tells: the errors of Open, and those of the store's methods.
type Cause int

// Causes of failure.
const (
	// CauseUnknown is any other failure.
	CauseUnknown Cause = iota
	// CauseRefused: nothing listens at the server's address.
	CauseRefused
	// CauseTimeout: the server did not answer in time.
	CauseTimeout
	// CauseNoHost: the server's host name does not resolve.
	CauseNoHost
	// CauseNoRoute: the network has no route to the server's host.
	CauseNoRoute
	// CauseAuth: the server refused the user name or password.
	CauseAuth
	// CauseNoDatabase: the server has no database of that name.
	CauseNoDatabase
	// CauseNoTable: the sessions table does not exist; migrating the
	// store creates it.
	CauseNoTable
	// CausePrivilege: the server's user lacks a privilege it needs.
	CausePrivilege
	// CauseNotSQLite: the file is not an SQLite database.
	CauseNotSQLite
	// CauseCorrupt: the SQLite database is corrupt.
	CauseCorrupt
	// CausePermission: the operating system denied access to the
	// database file or its directory.
	CausePermission
	// CauseReadOnly: the database, or the file system it is on, is
	// read-only.
	CauseReadOnly
	// CauseCantOpen: SQLite cannot open the database file, or create
	// the files it keeps beside it (PATH-wal, PATH-shm).
	CauseCantOpen
)

// SQLite result codes (the primary codes: the low byte of an extended
// one).
const (
	sqliteError    = 1
	sqlitePerm     = 3
	sqliteReadOnly = 8
	sqliteCorrupt  = 11
	sqliteCantOpen = 14
	sqliteAuth     = 23
	sqliteNotADB   = 26
)

// CauseOf returns why err happened: from PostgreSQL's SQLSTATE, MySQL's
// error number, SQLite's result code, Redis's error code, or the
// operating system's error.
func CauseOf(err error) Cause {
	if err == nil {
		return CauseUnknown
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pgCause(pg.Code)
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return mysqlCause(my.Number)
	}
	if re, ok := asRedisError(err); ok {
		return redisCause(re.Error())
	}
	if c := mongoCause(err); c != CauseUnknown {
		return c
	}
	// modernc.org/sqlite's *Error, without importing the driver.
	var lite interface {
		error
		Code() int
	}
	if errors.As(err, &lite) {
		if c := sqliteCause(lite.Code(), lite.Error()); c != CauseUnknown {
			return c
		}
	}
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && (dns.IsNotFound || !dns.IsTimeout):
		return CauseNoHost
	case errors.Is(err, syscall.ECONNREFUSED):
		return CauseRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return CauseNoRoute
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), pgconn.Timeout(err), isNetTimeout(err),
		errors.Is(err, syscall.ETIMEDOUT):
		return CauseTimeout
	case errors.Is(err, fs.ErrPermission):
		return CausePermission
	case errors.Is(err, syscall.EROFS):
		return CauseReadOnly
	}
	return CauseUnknown
}

// pgCause maps a PostgreSQL SQLSTATE code
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
func pgCause(code string) Cause {
	switch code {
	case "28P01", "28000": // invalid_password, invalid_authorization_specification
		return CauseAuth
	case "3D000": // invalid_catalog_name
		return CauseNoDatabase
	case "42P01": // undefined_table
		return CauseNoTable
	case "42501": // insufficient_privilege
		return CausePrivilege
	case "25006": // read_only_sql_transaction
		return CauseReadOnly
	}
	return CauseUnknown
}

// mysqlCause maps a MySQL or MariaDB error number
// (https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html).
func mysqlCause(n uint16) Cause {
	switch n {
	case 1045, 1698: // ER_ACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR
		return CauseAuth
	case 1049: // ER_BAD_DB_ERROR
		return CauseNoDatabase
	case 1146: // ER_NO_SUCH_TABLE
		return CauseNoTable
	case 1044, 1142, 1143: // ER_DBACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR, ER_COLUMNACCESS_DENIED_ERROR
		return CausePrivilege
	case 1290, 1792: // ER_OPTION_PREVENTS_STATEMENT (read_only), ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
		return CauseReadOnly
	}
	return CauseUnknown
}

// redisCause maps the error code that starts a Redis error reply.
func redisCause(msg string) Cause {
	code, _, _ := strings.Cut(msg, " ")
	switch code {
	case "WRONGPASS", "NOAUTH":
		return CauseAuth
	case "NOPERM":
		return CausePrivilege
	case "READONLY":
		return CauseReadOnly
	}
	return CauseUnknown
}

// sqliteCause maps an SQLite result code. A missing table has no code of
// its own (it is SQLITE_ERROR), only its message, "no such table: NAME".
func sqliteCause(code int, msg string) Cause {
	switch code & 0xff {
	case sqliteNotADB:
		return CauseNotSQLite
	case sqliteCorrupt:
		return CauseCorrupt
	case sqliteReadOnly:
		return CauseReadOnly
	case sqlitePerm, sqliteAuth:
		return CausePermission
	case sqliteCantOpen:
		return CauseCantOpen
	}
	if code&0xff == sqliteError && strings.Contains(msg, "no such table") {
		return CauseNoTable
	}
	return CauseUnknown
}

// mongoCause maps a MongoDB server error code, and finds why the driver
// could not select a server in the last error of each server it tried.
func mongoCause(err error) Cause {
	var se mongo.ServerError
	if errors.As(err, &se) {
		switch {
		case se.HasErrorCode(18): // AuthenticationFailed
			return CauseAuth
		case se.HasErrorCode(13): // Unauthorized
			return CausePrivilege
		}
	}
	if strings.Contains(err.Error(), "(AuthenticationFailed)") { // a handshake's auth error
		return CauseAuth
	}
	var sel topology.ServerSelectionError
	if errors.As(err, &sel) {
		for _, srv := range sel.Desc.Servers {
			if srv.LastError != nil {
				if c := CauseOf(srv.LastError); c != CauseUnknown {
					return c
				}
			}
		}
	}
	return CauseUnknown
}

func asRedisError(err error) (*rueidis.RedisError, bool) {
	var re *rueidis.RedisError
	if !errors.As(err, &re) || re == nil || re.IsNil() {
		return nil, false
	}
	return re, true
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
