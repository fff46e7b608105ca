package oidc

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/keycard-go/keycard"
)

// maxFlows bounds the sign-ins one session can have in progress at once
// (several tabs, say); starting another forgets the oldest.
const maxFlows = 4

// AuthOptions adjust one sign-in. The zero AuthOptions asks for an
// ordinary sign-in that returns to Config.DefaultReturnTo.
type AuthOptions struct {
	// ReturnTo is where CallbackHandler sends the browser once signed in:
	// a path on this site, as ReturnPath accepts. Anything else is
	// replaced by Config.DefaultReturnTo.
	ReturnTo string

	// MaxAge, if positive, asks the provider for an authentication no
	// older than this ("max_age"), and Callback refuses the sign-in with
	// ErrAuthLevel unless the ID token's auth_time shows one. Use it to
	// re-authenticate the user before a sensitive action.
	MaxAge time.Duration

	// Prompt is the "prompt" parameter: "login" makes the provider ask for
	// credentials even if the user is signed in there, "none" forbids any
	// interaction (the provider answers login_required instead), and
	// "consent" and "select_account" are as OpenID Connect defines them.
	// The default is none, which lets the provider decide.
	Prompt string

	// ACRValues asks for one of these authentication context classes
	// ("acr_values"), and Callback refuses the sign-in with ErrAuthLevel
	// unless the ID token's acr is one of them.
	ACRValues []string

	// LoginHint suggests the account to sign in with ("login_hint").
	LoginHint string
}

// pendingFlow is a sign-in in progress, kept in the session that started
// it until its callback, FlowTimeout or a login.
type pendingFlow struct {
	State    string
	Nonce    string
	Verifier string // the PKCE code_verifier
	Issuer   string
	ReturnTo string
	MaxAge   time.Duration
	ACR      []string
	Expires  time.Time
}

// SignIn starts a sign-in: it records a new state, nonce and PKCE verifier
// in the request's session and redirects the browser (303) to the
// provider's authorization endpoint. The request must be served by the
// Manager's Handler. Call it from a handler of your own to pass options;
// SignInHandler is the common case. Each sign-in can be completed once,
// within Config.FlowTimeout, by the browser that started it.
func (c *Client) SignIn(w http.ResponseWriter, r *http.Request, opts AuthOptions) error {
	s := keycard.FromContext(r.Context())
	if s == nil {
		return errNoSession
	}
	params, err := c.authParams(opts)
	if err != nil {
		return err
	}
	f := pendingFlow{
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
		Issuer:   c.issuer,
		ReturnTo: c.returnPath(opts.ReturnTo),
		MaxAge:   opts.MaxAge,
		ACR:      slices.Clone(opts.ACRValues),
		Expires:  time.Now().Add(c.cfg.FlowTimeout),
	}
	_, err = keycard.Update(r.Context(), s, flowsKey, func(old []pendingFlow) []pendingFlow {
		now := time.Now()
		kept := make([]pendingFlow, 0, maxFlows)
		for _, p := range old {
			if now.Before(p.Expires) {
				kept = append(kept, p)
			}
		}
		if len(kept) >= maxFlows {
			kept = kept[len(kept)-maxFlows+1:]
		}
		return append(kept, f)
	})
	if err != nil {
		return fmt.Errorf("oidc: sign in: %w", err)
	}
	params = append(params, oauth2.S256ChallengeOption(f.Verifier), gooidc.Nonce(f.Nonce))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, c.oauth.AuthCodeURL(f.State, params...), http.StatusSeeOther)
	return nil
}

// SignInHandler returns a handler that starts an ordinary sign-in, returning
// to the path in the "return_to" query parameter (see ReturnPath). Mount it
// inside the Manager's Handler, for GET:
//
//	mux.Handle("GET /login/oidc", rp.SignInHandler())
func (c *Client) SignInHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.SignIn(w, r, AuthOptions{ReturnTo: r.URL.Query().Get("return_to")}); err != nil {
			c.fail(w, r, err)
		}
	})
}

// authParams returns the authorization request parameters of opts.
func (c *Client) authParams(opts AuthOptions) ([]oauth2.AuthCodeOption, error) {
	var params []oauth2.AuthCodeOption
	if opts.MaxAge < 0 {
		return nil, errors.New("oidc: sign in: negative MaxAge")
	}
	if opts.MaxAge > 0 {
		secs := max(int64(opts.MaxAge/time.Second), 1)
		params = append(params, oauth2.SetAuthURLParam("max_age", strconv.FormatInt(secs, 10)))
	}
	if opts.Prompt != "" {
		for p := range strings.SplitSeq(opts.Prompt, " ") {
			switch p {
			case "none", "login", "consent", "select_account":
			default:
				return nil, fmt.Errorf("oidc: sign in: unknown prompt %q", p)
			}
		}
		params = append(params, oauth2.SetAuthURLParam("prompt", opts.Prompt))
	}
	if len(opts.ACRValues) > 0 {
		for _, v := range opts.ACRValues {
			if v == "" || strings.ContainsAny(v, " \t\r\n") {
				return nil, fmt.Errorf("oidc: sign in: ACR value %q is empty or has spaces", v)
			}
		}
		params = append(params, oauth2.SetAuthURLParam("acr_values", strings.Join(opts.ACRValues, " ")))
	}
	if opts.LoginHint != "" {
		params = append(params, oauth2.SetAuthURLParam("login_hint", opts.LoginHint))
	}
	return params, nil
}

// returnPath returns raw if ReturnPath accepts it, else the default.
func (c *Client) returnPath(raw string) string {
	if p, ok := ReturnPath(raw); ok {
		return p
	}
	return c.cfg.DefaultReturnTo
}

// errNoSession reports a handler served outside the Manager's Handler.
var errNoSession = errors.New("oidc: no keycard session in the request context: serve this handler inside Manager.Handler")
