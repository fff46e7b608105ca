package mongodb

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
)

// document is one record as the collection keeps it; the package
// documentation describes each field. Times are Unix nanoseconds
// (storekit.Nanos), which round-trip exactly and compare as integers,
// except expire_at, the BSON dates that MongoDB's TTL index reads.
type document struct {
	Key        string          `bson:"_id"`
	Version    int64           `bson:"version"`
	UserID     string          `bson:"user_id"`
	Created    int64           `bson:"created"`
	LastSeen   int64           `bson:"last_seen"`
	AuthTime   int64           `bson:"auth_time"`
	Expires    int64           `bson:"expires"`
	Deadline   int64           `bson:"deadline"`
	ExpireAt   []bson.DateTime `bson:"expire_at"`
	Persistent bool            `bson:"persistent"`
	IP         string          `bson:"ip"`
	UserAgent  string          `bson:"user_agent"`
	Data       []byte          `bson:"data"`
}

// newDocument returns the document that stores rec under key at version.
func newDocument(key string, rec *store.Record, version uint64) *document {
	data := rec.Data
	if data == nil {
		data = []byte{} // nil would be null
	}
	return &document{
		Key: key, Version: int64(version), UserID: rec.UserID,
		Created: storekit.Nanos(rec.Created), LastSeen: storekit.Nanos(rec.LastSeen), AuthTime: storekit.Nanos(rec.AuthTime),
		Expires: storekit.Nanos(rec.Expires), Deadline: storekit.Nanos(rec.Deadline),
		ExpireAt:   []bson.DateTime{ceilDate(rec.Expires), ceilDate(rec.Deadline)},
		Persistent: rec.Persistent, IP: rec.IP, UserAgent: rec.UserAgent, Data: data,
	}
}

// record returns the record d holds.
func (d *document) record() *store.Record {
	rec := d.value()
	return &rec
}

// value returns the record d holds, as a value.
func (d *document) value() store.Record {
	data := d.Data
	if data == nil {
		data = []byte{}
	}
	return store.Record{
		Version: uint64(d.Version), UserID: d.UserID,
		Created: storekit.FromNanos(d.Created), LastSeen: storekit.FromNanos(d.LastSeen), AuthTime: storekit.FromNanos(d.AuthTime),
		Expires: storekit.FromNanos(d.Expires), Deadline: storekit.FromNanos(d.Deadline),
		Persistent: d.Persistent, IP: d.IP, UserAgent: d.UserAgent, Data: data,
	}
}

// ceilDate returns t as a BSON date, whose precision is the millisecond,
// rounded up, so that the TTL monitor never removes a record before it
// expires. The zero time is the Unix epoch, long past.
func ceilDate(t time.Time) bson.DateTime {
	n := storekit.Nanos(t)
	ms := n / 1e6 // truncation rounds negative values up already
	if n%1e6 > 0 {
		ms++
	}
	return bson.DateTime(ms)
}

// liveFilter adds to filter the conditions of a record live at now.
func liveFilter(filter bson.D, now int64) bson.D {
	return append(filter,
		bson.E{Key: "expires", Value: bson.D{{Key: "$gt", Value: now}}},
		bson.E{Key: "deadline", Value: bson.D{{Key: "$gt", Value: now}}})
}
