package keycard

// reservedPrefix marks session keys that Keycard and its companion packages
// use. Session.Keys leaves them out; applications should not use the prefix.
const reservedPrefix = "keycard."

// CSRFKey is the reserved session key under which package csrf keeps the
// session's anti-forgery secret. Login and Renew delete it, so a token
// issued before a privilege change does not work after it.
const CSRFKey = reservedPrefix + "csrf"
