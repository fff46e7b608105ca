// Package rptest tests package oidc against a real OpenID Provider:
// zitadel's example provider (github.com/zitadel/oidc/v3, its
// example/server/exampleop and example/server/storage), served over HTTP on
// 127.0.0.1 beside the application under test, which runs keycard, csrf,
// token and oidc as the documentation tells an application to.
//
// It is a module of its own so that the provider's dependencies never
// reach the oidc module's users: oidc itself depends on go-oidc and
// x/oauth2 only.
package rptest
