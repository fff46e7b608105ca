package oidc

import (
	"context"
	"errors"
	"time"

	"github.com/keycard-go/keycard/store"
)

// firstUse records a logout token's jti, in the Manager's store so that
// every instance sees it, and reports whether it was the first time. The
// record lives until the token could no longer be accepted anyway
// (until), so the store holds at most the tokens of the last
// LogoutTokenMaxAge.
func (c *Client) firstUse(ctx context.Context, jti string, until time.Time) (bool, error) {
	st := c.m.Store()
	for _, k := range c.keys[1:] { // seen under a key since rotated away?
		_, err := st.Load(ctx, storeKey(k, kindTokenID, c.issuer, jti))
		switch {
		case err == nil:
			return false, nil
		case !errors.Is(err, store.ErrNotFound):
			return false, err
		}
	}
	now := time.Now()
	rec := &store.Record{Created: now, LastSeen: now, Expires: until, Deadline: until}
	err := st.Save(ctx, storeKey(c.keys[0], kindTokenID, c.issuer, jti), rec)
	switch {
	case errors.Is(err, store.ErrConflict):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// forget deletes a jti's record, so that the provider can send the token
// again after a logout that failed.
func (c *Client) forget(ctx context.Context, jti string) error {
	return c.m.Store().Delete(ctx, storeKey(c.keys[0], kindTokenID, c.issuer, jti))
}
