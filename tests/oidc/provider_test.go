package rptest

import (
	"context"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// The client the application is registered as, and the provider's user.
const (
	clientID     = "shop"
	clientSecret = "shop-secret"
	username     = "test-user@local-site"
	password     = "verysecure"
	subject      = "id1" // the user's subject at the provider
)

// provider is zitadel's example OpenID Provider on a loopback port.
type provider struct {
	URL     string // the issuer
	storage *opStorage
}

// startProvider starts a provider on 127.0.0.1 that knows the client
// shop, with its redirect and post-logout redirect URIs registered.
func startProvider(t *testing.T, redirectURLs, postLogoutURLs []string) *provider {
	t.Helper()
	clients := map[string]*storage.Client{clientID: storage.WebClient(clientID, clientSecret, redirectURLs...)}
	st := &opStorage{
		Storage:    storage.NewStorageWithClients(storage.NewUserStore("http://local-site"), clients),
		postLogout: postLogoutURLs,
	}
	var h deferred
	srv := httptest.NewServer(&h)
	t.Cleanup(srv.Close)
	h.set(exampleop.SetupServer(srv.URL, st, nil, false))
	return &provider{URL: srv.URL, storage: st}
}

// signingKey returns the key the provider signs its tokens with, and its
// key ID, as its JWKS publishes them.
func (p *provider) signingKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := p.storage.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k.Key().(*rsa.PrivateKey), k.ID()
}

// opStorage is the example storage with what a provider that supports
// logout has and the example leaves out: a "sid" claim in ID tokens (one
// provider session per authorization request), registered post-logout
// redirect URIs, and an acr and auth_time the test can set.
type opStorage struct {
	*storage.Storage
	postLogout []string

	mu       sync.Mutex
	acr      string
	authTime time.Duration // subtracted from the real authentication time
}

// setAuth makes the provider report acr, and authentication times age
// earlier than the real ones, until the test ends.
func (s *opStorage) setAuth(t *testing.T, acr string, age time.Duration) {
	s.mu.Lock()
	s.acr, s.authTime = acr, age
	s.mu.Unlock()
	t.Cleanup(func() {
		s.mu.Lock()
		s.acr, s.authTime = "", 0
		s.mu.Unlock()
	})
}

// sidOf returns the provider session ID of an authorization request.
func sidOf(authRequestID string) string { return "op-session-" + authRequestID }

func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, info *zoidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	if ar, ok := req.(interface{ GetID() string }); ok {
		info.AppendClaims("sid", sidOf(ar.GetID()))
	}
	return nil
}

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return opClient{Client: c, postLogout: s.postLogout}, nil
}

func (s *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	ar, err := s.Storage.AuthRequestByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return authRequest{AuthRequest: ar, acr: s.acr, age: s.authTime}, nil
}

// opClient is a registered client with post-logout redirect URIs.
type opClient struct {
	op.Client
	postLogout []string
}

func (c opClient) PostLogoutRedirectURIs() []string { return c.postLogout }

// authRequest is an authorization request with the acr and auth_time the
// test set.
type authRequest struct {
	op.AuthRequest
	acr string
	age time.Duration
}

func (a authRequest) GetACR() string { return a.acr }

func (a authRequest) GetAuthTime() time.Time { return a.AuthRequest.GetAuthTime().Add(-a.age) }

// deferred is a handler set once its server's URL is known.
type deferred struct {
	mu sync.RWMutex
	h  http.Handler
}

func (d *deferred) set(h http.Handler) {
	d.mu.Lock()
	d.h = h
	d.mu.Unlock()
}

func (d *deferred) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.RLock()
	h := d.h
	d.mu.RUnlock()
	h.ServeHTTP(w, r)
}

// sign signs claims with key as a compact JWS with the header typ (none
// if "") and the key's ID.
func sign(t *testing.T, key *rsa.PrivateKey, kid, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jsonMarshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
