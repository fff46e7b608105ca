package memcached

import (
	"math"
	"time"
)

const (
	// maxRelative is the longest expiration memcached reads as a number
	// of seconds from now: a larger one is an absolute Unix time.
	maxRelative = 60 * 60 * 24 * 30

	// expireNow is the expiration that makes memcached expire an item at
	// once: any negative value does.
	expireNow = -1
)

// expiration returns the memcached expiration for an item that must live
// until at least until, which the store's clock puts at now; wall is the
// real time, which the memcached server's clock follows.
//
// The remaining time is rounded up to whole seconds, plus one second:
// memcached's clock ticks once a second and may lag by up to one, so
// without it an item could vanish a moment before its time. Up to 30 days
// it is sent as seconds from now; beyond, memcached reads the number as
// an absolute Unix time, so it is sent as wall plus the remaining time (the
// server's clock must then agree with the application's, as NTP ensures).
// An item already dead at now gets expireNow, so memcached keeps nothing,
// and one living past 2038, the end of memcached's 32-bit times, gets
// 2038's last second: the store's own check of Expires and Deadline still
// applies.
func expiration(until, now, wall time.Time) int32 {
	d := until.Sub(now)
	if d <= 0 {
		return expireNow
	}
	secs := int64(d / time.Second)
	if d%time.Second != 0 {
		secs++
	}
	secs++
	if secs <= maxRelative {
		return int32(secs)
	}
	return int32(min(wall.Unix()+secs, math.MaxInt32))
}

// recordUntil returns when a record with these limits dies: the earlier
// of its idle expiry and its absolute deadline.
func recordUntil(expires, deadline time.Time) time.Time {
	if expires.Before(deadline) {
		return expires
	}
	return deadline
}
