package store

import "time"

// Record is one stored session: its metadata and its encoded data.
//
// The Manager fills every field; stores keep them as they are. Times are
// UTC with nanosecond precision; stores that keep fewer digits must round
// Expires and Deadline up, never down, so a session never outlives its
// limits by more than the stored precision.
type Record struct {
	// Version is the record's version for compare-and-set. A record not
	// yet saved has version 0.
	Version uint64

	// UserID is the user the session is bound to, or "" for an anonymous
	// session. Stores with a UserIndex index it.
	UserID string

	// Created is when the session began. It survives ID renewal.
	Created time.Time

	// LastSeen is the last recorded activity.
	LastSeen time.Time

	// AuthTime is when the user last authenticated, or zero.
	AuthTime time.Time

	// Expires is when the record dies unless touched: the earlier of the
	// idle deadline and Deadline. Stores expire records at this time.
	Expires time.Time

	// Deadline is the absolute deadline, which no activity extends.
	Deadline time.Time

	// Persistent reports whether the client holds the session in a
	// persistent ("remember me") cookie.
	Persistent bool

	// IP and UserAgent describe the client that created or last logged in
	// to the session, for device lists.
	IP        string
	UserAgent string

	// Data is the session's values, encoded by the Manager.
	Data []byte
}

// Live reports whether the record is unexpired at now.
func (r *Record) Live(now time.Time) bool {
	return now.Before(r.Expires) && now.Before(r.Deadline)
}

// Clone returns a deep copy of r.
func (r *Record) Clone() *Record {
	c := *r
	c.Data = append([]byte(nil), r.Data...)
	return &c
}
