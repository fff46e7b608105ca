package token

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/store/memory"
)

// Defaults and limits of Config.
const (
	DefaultAccessTTL       = 10 * time.Minute
	MaxAccessTTL           = 15 * time.Minute // without AllowLongAccessTTL
	DefaultLeeway          = 30 * time.Second
	MaxLeeway              = 60 * time.Second
	DefaultRefreshIdle     = 14 * 24 * time.Hour
	DefaultRefreshLifetime = 30 * 24 * time.Hour
	DefaultGrace           = 10 * time.Second
	MaxGrace               = 60 * time.Second
	DefaultMaxTokenSize    = 8 << 10
)

// longAccessTTL bounds AccessTTL even with AllowLongAccessTTL.
const longAccessTTL = 24 * time.Hour

// Config configures an Issuer. Issuer and Audience are required; every
// other zero field takes a safe default.
type Config struct {
	// Issuer is the "iss" claim of every token, typically the service's
	// HTTPS origin. Verify refuses tokens of any other issuer. Required.
	Issuer string

	// Audience is the "aud" claim of every token: the service, or group
	// of services, the tokens are for. Verify refuses tokens whose
	// audience does not include it. Required.
	Audience string

	// AccessTTL is how long an access token lives. The default is 10
	// minutes; more than 15 minutes needs AllowLongAccessTTL. A token
	// never outlives its session's absolute deadline. Revoking a session
	// stops its access tokens only when they expire (or at once with
	// VerifyStrict), so keep it short.
	AccessTTL time.Duration

	// AllowLongAccessTTL permits an AccessTTL of up to 24 hours, at the
	// price of revocations that take that long to reach Verify.
	AllowLongAccessTTL bool

	// Leeway is the clock skew tolerated when checking "exp", "nbf" and
	// "iat". The default is 30 seconds, the maximum 60 seconds; a negative
	// value means none.
	Leeway time.Duration

	// RefreshIdle ends a refresh family (a login's chain of refresh
	// tokens) that has not been used for this long. The default is 14
	// days.
	RefreshIdle time.Duration

	// RefreshLifetime ends a refresh family this long after Issue started
	// it, however often it is used. The default is 30 days.
	//
	// Refresh tokens live inside the session, so the session's own idle
	// and absolute timeouts (keycard.Config.Timeouts, or RememberMe for
	// remembered sessions) bound them too: with keycard's defaults a
	// session, and so its refresh tokens, lasts at most 8 hours. Mark API
	// logins with Manager.RememberMe, or configure longer timeouts, for
	// refresh tokens that last days.
	RefreshLifetime time.Duration

	// Grace is how long the refresh token just rotated away keeps working,
	// returning the same successor as the rotation did, so that two tabs
	// or a retried request refreshing at once both succeed. The default is
	// 10 seconds, the maximum 60 seconds; a negative value disables it.
	Grace time.Duration

	// Keys signs and verifies access tokens. The default is a set holding
	// one random Ed25519 key per process: tokens then do not survive a
	// restart or work across instances, so set Keys whenever the
	// Manager's store is shared or persistent.
	Keys *KeySet

	// RefreshKey authenticates refresh tokens and derives each successor
	// from its predecessor. It must hold at least 32 random bytes (see
	// keycard.NewKey) and be the same on every instance; changing it
	// invalidates every refresh token. The default is a random key per
	// process, with the same caveat as Keys.
	RefreshKey keycard.Key

	// MaxTokenSize bounds the access tokens Verify will look at, in
	// bytes; longer ones are refused before any parsing. The default is 8
	// KiB.
	MaxTokenSize int
}

// An Issuer issues, verifies and refreshes tokens for the sessions of one
// keycard Manager. Create one with New. An Issuer is safe for concurrent
// use.
type Issuer struct {
	m            *keycard.Manager
	iss          string
	aud          string
	accessTTL    time.Duration
	leeway       time.Duration
	refreshIdle  time.Duration
	refreshMax   time.Duration
	grace        time.Duration
	keys         *KeySet
	maxSize      int
	successorKey []byte // derives a successor refresh secret
	tagKey       []byte // authenticates refresh tokens
	stripes      [refreshStripes]chan struct{}

	jwksMu      sync.Mutex
	jwksBody    []byte
	jwksVersion uint64
}

// New returns an Issuer for the sessions of m, after filling in defaults
// and validating cfg. Sessions must be stored: a Manager in Sealed mode
// cannot carry tokens.
func New(m *keycard.Manager, cfg Config) (*Issuer, error) {
	if m == nil {
		return nil, errors.New("token: New: nil Manager")
	}
	if m.Store() == nil {
		return nil, errors.New("token: New: sealed sessions live only in cookies and cannot carry tokens")
	}
	iss := &Issuer{
		m: m, iss: cfg.Issuer, aud: cfg.Audience, accessTTL: cfg.AccessTTL, leeway: cfg.Leeway,
		refreshIdle: cfg.RefreshIdle, refreshMax: cfg.RefreshLifetime, grace: cfg.Grace,
		keys: cfg.Keys, maxSize: cfg.MaxTokenSize,
	}
	iss.setDefaults()
	if err := iss.validate(cfg); err != nil {
		return nil, fmt.Errorf("token: config: %w", err)
	}
	shared := true
	if _, ok := m.Store().(*memory.Store); ok {
		shared = false
	}
	if iss.keys == nil {
		if shared {
			m.Logger().Warn("token: no Keys configured; using a random per-process key, so access tokens will not survive a restart or work across instances")
		}
		var kid [6]byte
		rand.Read(kid[:])
		k, err := NewEd25519Key("ephemeral-" + hex.EncodeToString(kid[:]))
		if err != nil {
			return nil, err
		}
		if iss.keys, err = NewKeySet(k); err != nil {
			return nil, err
		}
	}
	secret := cfg.RefreshKey
	if secret == nil {
		if shared {
			m.Logger().Warn("token: no RefreshKey configured; using a random per-process key, so refresh tokens will not survive a restart or work across instances")
		}
		secret = keycard.NewKey()
	}
	var err error
	if iss.successorKey, err = hkdf.Key(sha256.New, secret, nil, "keycard token refresh successor v1", 32); err != nil {
		return nil, fmt.Errorf("token: config: RefreshKey: %w", err)
	}
	if iss.tagKey, err = hkdf.Key(sha256.New, secret, nil, "keycard token refresh tag v1", 32); err != nil {
		return nil, fmt.Errorf("token: config: RefreshKey: %w", err)
	}
	for i := range iss.stripes {
		iss.stripes[i] = make(chan struct{}, 1)
	}
	iss.keys.attach(2*iss.accessTTL + iss.leeway)
	return iss, nil
}

func (iss *Issuer) setDefaults() {
	if iss.accessTTL == 0 {
		iss.accessTTL = DefaultAccessTTL
	}
	switch {
	case iss.leeway == 0:
		iss.leeway = DefaultLeeway
	case iss.leeway < 0:
		iss.leeway = 0
	}
	if iss.refreshIdle == 0 {
		iss.refreshIdle = DefaultRefreshIdle
	}
	if iss.refreshMax == 0 {
		iss.refreshMax = DefaultRefreshLifetime
	}
	switch {
	case iss.grace == 0:
		iss.grace = DefaultGrace
	case iss.grace < 0:
		iss.grace = -1 // disabled: no presentation is ever within it
	}
	if iss.maxSize == 0 {
		iss.maxSize = DefaultMaxTokenSize
	}
}

func (iss *Issuer) validate(cfg Config) error {
	var errs []error
	if iss.iss == "" {
		errs = append(errs, errors.New("Issuer is required"))
	}
	if iss.aud == "" {
		errs = append(errs, errors.New("an Audience is required"))
	}
	limit := MaxAccessTTL
	if cfg.AllowLongAccessTTL {
		limit = longAccessTTL
	}
	if iss.accessTTL < time.Second || iss.accessTTL > limit {
		errs = append(errs, fmt.Errorf("the AccessTTL %v must be between 1s and %v", iss.accessTTL, limit))
	}
	if iss.leeway > MaxLeeway {
		errs = append(errs, fmt.Errorf("the Leeway %v exceeds %v", iss.leeway, MaxLeeway))
	}
	if iss.refreshIdle < 0 || iss.refreshMax < 0 || iss.refreshIdle > iss.refreshMax {
		errs = append(errs, fmt.Errorf("need 0 < RefreshIdle <= RefreshLifetime, got %v and %v", iss.refreshIdle, iss.refreshMax))
	}
	if iss.grace > MaxGrace {
		errs = append(errs, fmt.Errorf("the Grace %v exceeds %v", iss.grace, MaxGrace))
	}
	if iss.maxSize < 512 || iss.maxSize > 64<<10 {
		errs = append(errs, fmt.Errorf("MaxTokenSize %d must be between 512 and 65536", iss.maxSize))
	}
	if cfg.RefreshKey != nil && len(cfg.RefreshKey) < 32 {
		errs = append(errs, errors.New("RefreshKey needs at least 32 bytes"))
	}
	return errors.Join(errs...)
}

// Keys returns the Issuer's key set, for rotation.
func (iss *Issuer) Keys() *KeySet { return iss.keys }
