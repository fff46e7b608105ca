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
	var (
		rec                                            store.Record
		version                                        int64
		created, lastSeen, authTime, expires, deadline int64
	)
	dest := append(lead, &version, &rec.UserID, &created, &lastSeen, &authTime, &expires, &deadline,
		&rec.Persistent, &rec.IP, &rec.UserAgent, &rec.Data)
	if err := scan(dest...); err != nil {
		return nil, err
	}
	rec.Version = uint64(version)
	rec.Created, rec.LastSeen, rec.AuthTime = storekit.FromNanos(created), storekit.FromNanos(lastSeen), storekit.FromNanos(authTime)
	rec.Expires, rec.Deadline = storekit.FromNanos(expires), storekit.FromNanos(deadline)
	return &rec, nil
}
