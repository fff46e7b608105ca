package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/event"
)

// Result is what a successful Callback did.
type Result struct {
	// UserID is the user the session is now logged in as.
	UserID string
	// Identity is what the session records (see IdentityOf).
	Identity Identity
	// ReturnTo is the path the sign-in asked to return to, already
	// checked by ReturnPath.
	ReturnTo string
}

// Callback completes a sign-in at the redirect URL. It takes the pending
// sign-in that the callback's state names out of the session, so each
// works once; refuses a callback with an "iss" parameter of another issuer
// (RFC 9207), or without one when the provider promises it; exchanges the
// code with the PKCE verifier; verifies the ID token (signature against the
// provider's keys, issuer, audience and authorized party, expiry, issue
// time, nonce, at_hash where present, and auth_time and acr when the
// sign-in asked for them); calls Config.MapUser; and then logs the session
// in with Manager.Login, which gives it a new ID, and records the Identity
// in it.
//
// It writes no response: redirect to Result.ReturnTo, as CallbackHandler
// does. A refused callback returns an error wrapping ErrState, ErrProvider,
// ErrExchange, ErrIDToken or ErrAuthLevel, emits an EventRejected, and
// changes nothing but the pending sign-in it used up. The request must be
// served by the Manager's Handler.
func (c *Client) Callback(w http.ResponseWriter, r *http.Request) (*Result, error) {
	s := keycard.FromContext(r.Context())
	if s == nil {
		return nil, errNoSession
	}
	res, err := c.callback(r, s)
	if err != nil && refused(err) {
		c.m.Emit(event.Event{Kind: EventRejected, Reason: ReasonCallback, Session: s.Info().Hash, UserID: s.UserID(), Err: err, Request: r})
	}
	return res, err
}

// CallbackHandler returns a handler that completes a sign-in with Callback
// and redirects (303) to its return path, or answers with
// Config.ErrorHandler. Serve it at Config.RedirectURL, for GET, inside the
// Manager's Handler:
//
//	mux.Handle("GET /login/oidc/callback", rp.CallbackHandler())
func (c *Client) CallbackHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := c.Callback(w, r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
	})
}

func (c *Client) callback(r *http.Request, s *keycard.Session) (*Result, error) {
	ctx := r.Context()
	q := r.URL.Query()
	if r.Method != http.MethodGet || len(q["state"]) != 1 || q.Get("state") == "" {
		return nil, refuse(ErrState, "no single state parameter in a GET")
	}
	f, err := c.takeFlow(ctx, s, q.Get("state"))
	if err != nil {
		return nil, err
	}
	// RFC 9207: the issuer names itself in its response, so a response of
	// another provider cannot be passed off as this one's.
	if iss, ok := q["iss"]; ok {
		if len(iss) != 1 || iss[0] != c.issuer {
			return nil, refuse(ErrState, "the response's iss parameter names another issuer")
		}
	} else if c.issParam {
		return nil, refuse(ErrState, "the response has no iss parameter, which the provider promises")
	}
	if code := q.Get("error"); code != "" {
		return nil, &ProviderError{Code: code, Description: q.Get("error_description")}
	}
	if len(q["code"]) != 1 || q.Get("code") == "" {
		return nil, refuse(ErrExchange, "no single code parameter")
	}
	tok, err := c.oauth.Exchange(c.clientContext(ctx), q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, refuseCause(ErrExchange, "token endpoint", err)
	}
	in, err := c.verifyIDToken(ctx, tok, f)
	if err != nil {
		return nil, err
	}
	user, err := c.cfg.MapUser(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("oidc: MapUser: %w", err)
	}
	if user.ID == "" {
		return nil, errors.New("oidc: MapUser returned an empty user ID")
	}
	if err := c.login(ctx, s, user, in); err != nil {
		return nil, err
	}
	return &Result{UserID: user.ID, Identity: in.Identity, ReturnTo: f.ReturnTo}, nil
}

// takeFlow removes the pending sign-in of state from the session and
// returns it, saving at once with compare-and-set, so that of two
// callbacks racing with one state (on any instances) only one gets it.
func (c *Client) takeFlow(ctx context.Context, s *keycard.Session, state string) (pendingFlow, error) {
	var none pendingFlow
	if old, _ := keycard.Get[[]pendingFlow](s, flowsKey); !slices.ContainsFunc(old, func(p pendingFlow) bool { return sameString(p.State, state) }) {
		// Nothing to take: refuse without writing (a callback from another
		// browser, or a replay after the login dropped every flow).
		return none, refuse(ErrState, "unknown state")
	}
	var got pendingFlow
	var found bool
	_, err := keycard.Update(ctx, s, flowsKey, func(old []pendingFlow) []pendingFlow {
		got, found = none, false
		now := time.Now()
		kept := make([]pendingFlow, 0, len(old))
		for _, p := range old {
			switch {
			case sameString(p.State, state):
				got, found = p, true
			case now.Before(p.Expires):
				kept = append(kept, p)
			}
		}
		return kept
	})
	switch {
	case err != nil:
		return none, fmt.Errorf("oidc: callback: %w", err)
	case !found:
		return none, refuse(ErrState, "state already used")
	case !time.Now().Before(got.Expires):
		return none, refuse(ErrState, "sign-in older than FlowTimeout")
	case got.Issuer != c.issuer:
		return none, refuse(ErrState, "sign-in started for another issuer")
	}
	return got, nil
}

// login binds the session to user and records the identity, then indexes
// it for the provider's logout requests. If anything fails after the login,
// the session is destroyed: a login the provider could not end, or that
// does not record who signed in, is refused.
func (c *Client) login(ctx context.Context, s *keycard.Session, user User, in *SignIn) error {
	if err := c.m.Login(ctx, s, user.ID); err != nil {
		return fmt.Errorf("oidc: login: %w", err)
	}
	if err := c.record(ctx, s, user, in); err != nil {
		if derr := c.m.Destroy(ctx, s); derr != nil {
			err = errors.Join(err, derr)
		}
		return fmt.Errorf("oidc: login: %w", err)
	}
	return nil
}

// record stores the identity in the logged-in session and in the index.
func (c *Client) record(ctx context.Context, s *keycard.Session, user User, in *SignIn) error {
	if user.RememberMe {
		if err := c.m.RememberMe(s, true); err != nil {
			return err
		}
	}
	raw, _ := in.Token.Extra("id_token").(string)
	if err := s.Put(identityKey, in.Identity); err != nil {
		return err
	}
	if err := s.Put(idTokenKey, raw); err != nil {
		return err
	}
	if err := c.m.Save(ctx, s); err != nil {
		return err
	}
	if !c.indexed() {
		return nil
	}
	if err := c.index(ctx, in.Identity, user.ID, s.Info().Deadline); err != nil {
		return fmt.Errorf("index for provider logout: %w", err)
	}
	return nil
}

// refused reports whether err is a refusal rather than a failure.
func refused(err error) bool {
	for _, e := range []error{ErrState, ErrProvider, ErrExchange, ErrIDToken, ErrAuthLevel} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// sameString compares two secrets in constant time.
func sameString(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// fail answers a failed handler with Config.ErrorHandler or the default.
func (c *Client) fail(w http.ResponseWriter, r *http.Request, err error) {
	if c.cfg.ErrorHandler != nil {
		c.cfg.ErrorHandler(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if refused(err) {
		http.Error(w, "Sign-in failed. Please try again.", http.StatusBadRequest)
		return
	}
	c.m.Logger().ErrorContext(r.Context(), "oidc: request failed", "err", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}
