package demo

import (
	"crypto/rand"
	"crypto/subtle"
	"strings"

	"golang.org/x/crypto/argon2"
)

// user is a demo account. Its password is public (the sign-in page shows
// it), but it is checked as a real one would be: against an argon2id hash
// made at startup with a random salt.
type user struct {
	ID       string
	Name     string
	Password string // the documented demo password, for the sign-in page
	Support  bool   // may act as another user (impersonation)
	salt     []byte
	hash     []byte
}

// Account is a demo account as the pages and the documentation show it.
type Account struct {
	ID, Name, Password string
	Support            bool // may act as the other users
}

// Users are the demo accounts and their passwords, as the sign-in page and
// the documentation show them. A support user may act as the others.
var Users = []Account{
	{"alice", "Alice Liddell", "alice-wonderland", false},
	{"bob", "Bob Builder", "bob-can-fix-it", false},
	{"support", "Sam Support", "support-on-duty", true},
}

// argon2Params are the argon2id parameters: OWASP's minimum
// recommendation (19 MiB, two passes, one lane). Tests lower them.
var argon2Params = struct {
	time, memory uint32
	threads      uint8
}{time: 2, memory: 19 * 1024, threads: 1}

const hashLen = 32

func hashPassword(password string, salt []byte) []byte {
	p := argon2Params
	return argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, hashLen)
}

// dummy is hashed against when the account does not exist, so that an
// unknown name costs as much as a wrong password.
var dummySalt = make([]byte, 16)

func demoUsers() (map[string]*user, error) {
	users := make(map[string]*user, len(Users))
	for _, d := range Users {
		u := &user{ID: d.ID, Name: d.Name, Password: d.Password, Support: d.Support, salt: make([]byte, 16)}
		rand.Read(u.salt)
		u.hash = hashPassword(d.Password, u.salt)
		users[u.ID] = u
	}
	return users, nil
}

// authenticate returns the user whose name and password these are, or nil.
func (a *App) authenticate(name, password string) *user {
	u := a.users[strings.ToLower(strings.TrimSpace(name))]
	salt, want := dummySalt, []byte(nil)
	if u != nil {
		salt, want = u.salt, u.hash
	}
	got := hashPassword(password, salt)
	if u == nil || subtle.ConstantTimeCompare(got, want) != 1 {
		return nil
	}
	return u
}

// userOf returns the user a session is bound to, or nil.
func (a *App) userOf(userID string) *user { return a.users[userID] }
