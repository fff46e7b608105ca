package mysql

import (
	"encoding/hex"
	"strconv"
)

// The store writes every value into its statements as a literal and sends
// them without arguments, so go-sql-driver runs each one as a single
// COM_QUERY, whatever the DSN says about interpolateParams: one round trip
// per operation, no server-side prepared statement to create or close. Only
// two kinds of literal occur, and neither can change what a statement does,
// under any sql_mode or character set:
//
//   - byte strings as hexadecimal literals, X'6869', which both MySQL and
//     MariaDB take as binary strings, with no escaping to get right
//     (backslash escapes depend on NO_BACKSLASH_ESCAPES, which a pool's
//     connections need not share);
//   - integers in decimal.

// query is one SQL statement under construction.
type query []byte

// sql appends fixed SQL text.
func (q query) sql(s string) query {
	return append(q, s...)
}

// bytes appends b as a hexadecimal literal.
func (q query) bytes(b []byte) query {
	q = append(q, "X'"...)
	q = hex.AppendEncode(q, b)
	return append(q, '\'')
}

// str appends s as a hexadecimal literal.
func (q query) str(s string) query {
	q = append(q, "X'"...)
	for i := 0; i < len(s); i++ {
		q = append(q, hexDigits[s[i]>>4], hexDigits[s[i]&0xf])
	}
	return append(q, '\'')
}

const hexDigits = "0123456789abcdef"

// int appends n in decimal.
func (q query) int(n int64) query {
	return strconv.AppendInt(q, n, 10)
}

// uint appends n in decimal.
func (q query) uint(n uint64) query {
	return strconv.AppendUint(q, n, 10)
}

// bool appends 1 for true and 0 for false.
func (q query) bool(v bool) query {
	if v {
		return append(q, '1')
	}
	return append(q, '0')
}
