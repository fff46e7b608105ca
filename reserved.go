package keycard

// reservedPrefix marks session keys that Keycard and its companion packages
// use. Session.Keys leaves them out; applications should not use the prefix.
const reservedPrefix = "keycard."

// RefreshKey is the reserved session key under which package token keeps
// the state of the session's refresh-token family (hashes only). Periodic
// rotation (Config.RotateEvery) skips sessions that have it, since refresh
// tokens name their session by hash.
const RefreshKey = reservedPrefix + "refresh"

// CSRFKey is the reserved session key under which package csrf keeps the
// session's anti-forgery secret. Login and Renew delete it, so a token
// issued before a privilege change does not work after it.
const CSRFKey = reservedPrefix + "csrf"
