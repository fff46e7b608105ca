// Package sqlrec holds what the SQL stores (sqlite, postgres, mysql) share
// about reading records: the columns they select and how they decode.
package sqlrec

import (
	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
)

// Scan reads one record with scan (a SQL row's Scan method) from
// the columns every SQL store selects, in this order, after the lead
// destinations: version, user_id, created, last_seen, auth_time, expires,
// deadline, persistent, ip, user_agent, data. Times are Unix nanoseconds
// (see storekit.FromNanos).
func Scan(scan func(dest ...any) error, lead ...any) (*store.Record, error) {
	rec := new(store.Record)
	if err := ScanInto(rec, scan, lead...); err != nil {
		return nil, err
	}
	return rec, nil
}

// columns holds the values of one row's record columns as scanned: one
// allocation for every destination, since each escapes to scan.
type columns struct {
	version                                        int64
	created, lastSeen, authTime, expires, deadline int64
	persistent                                     bool
	userID, ip, userAgent                          string
	data                                           []byte
}

// ScanInto is Scan reading into *rec, for a store's LoadRecord (see
// store.RecordLoader): it sets every field of *rec, and on an error it
// leaves *rec as it was.
func ScanInto(rec *store.Record, scan func(dest ...any) error, lead ...any) error {
	c := new(columns)
	dest := append(lead, &c.version, &c.userID, &c.created, &c.lastSeen, &c.authTime, &c.expires, &c.deadline,
		&c.persistent, &c.ip, &c.userAgent, &c.data)
	if err := scan(dest...); err != nil {
		return err
	}
	*rec = store.Record{
		Version: uint64(c.version), UserID: c.userID,
		Created: storekit.FromNanos(c.created), LastSeen: storekit.FromNanos(c.lastSeen), AuthTime: storekit.FromNanos(c.authTime),
		Expires: storekit.FromNanos(c.expires), Deadline: storekit.FromNanos(c.deadline),
		Persistent: c.persistent, IP: c.ip, UserAgent: c.userAgent, Data: c.data,
	}
	return nil
}
