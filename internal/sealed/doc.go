// Package sealed encrypts and authenticates small values, such as whole
// sessions kept in a cookie, under a ring of keys that can be rotated.
//
// Most applications do not use it directly: set keycard.Config.Sealed and
// the Manager keeps each session, sealed, in its cookie instead of in a
// store. The package is exported for code that needs the same primitive.
//
// # Construction
//
// A Box holds one or more secrets, newest first. Seal uses the newest;
// Open accepts any, choosing it by a key ID carried in the sealed value,
// so keys rotate without invalidating values sealed earlier. Each sealed
// value is
//
//	version (1 byte) | key ID (4) | salt (16) | nonce (12) | AES-256-GCM ciphertext and tag
//
// where the AES key is derived for that one value with HKDF-SHA256 from the
// secret and the random salt. Deriving a key per value removes the limit
// that random 96-bit nonces put on how many values one key may seal (about
// 2^32): the chance of two values sharing both salt and nonce is
// negligible for any realistic count. Associated data passed to Seal and
// Open binds a value to its context (a cookie name, a purpose), so it
// cannot be moved to another.
package sealed
