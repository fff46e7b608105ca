package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/store"
	"github.com/keycard-go/keycard/store/redis"
	"github.com/keycard-go/keycard/store/redis/internal/redistest"
	"github.com/keycard-go/keycard/store/storetest"
)

// fixture is a store on the shared server, with the admin client to look
// at its keys and a clock.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	s      *redis.Store
	admin  rueidis.Client
	prefix string
	clock  *storetest.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	target := redistest.Shared(t)
	return newFixtureOn(t, target, target.Admin())
}

func newFixtureOn(t *testing.T, target *redistest.Target, client rueidis.Client) *fixture {
	t.Helper()
	prefix := target.Prefix(t)
	clock := storetest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	return &fixture{
		t: t, ctx: t.Context(), admin: target.Admin(), prefix: prefix, clock: clock,
		s: redis.New(client, redis.Config{Prefix: prefix, Now: clock.Now}),
	}
}

func newKey() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// record returns a record of user, alive for the next 30 minutes, with an
// 8-hour deadline.
func (f *fixture) record(user string) *store.Record {
	now := f.clock.Now()
	return &store.Record{
		UserID: user, Created: now, LastSeen: now, Expires: now.Add(30 * time.Minute),
		Deadline: now.Add(8 * time.Hour), Data: []byte("data of " + user),
	}
}

func (f *fixture) save(key string, rec *store.Record) {
	f.t.Helper()
	if err := f.s.Save(f.ctx, key, rec); err != nil {
		f.t.Fatalf("Save(version %d, user %q): %v", rec.Version, rec.UserID, err)
	}
	rec.Version++
}

// memberOf is the index member of key at token, as the package doc
// describes it.
func memberOf(key string, token uint64) string {
	raw, _ := hex.DecodeString(key)
	return base64.RawURLEncoding.EncodeToString(raw) + "." + strconv.FormatUint(token, 10)
}

func (f *fixture) indexKey(user string) string {
	return f.prefix + "u:{" + user + "}"
}

// index returns user's index as "member score" strings, sorted.
func (f *fixture) index(user string) []string {
	f.t.Helper()
	zs, err := f.admin.Do(f.ctx, f.admin.B().Zrange().Key(f.indexKey(user)).Min("0").Max("-1").Withscores().Build()).AsZScores()
	if err != nil {
		f.t.Fatalf("ZRANGE: %v", err)
	}
	var got []string
	for _, z := range zs {
		got = append(got, fmt.Sprintf("%s %.0f", z.Member, z.Score))
	}
	slices.Sort(got)
	return got
}

func (f *fixture) wantIndex(what, user string, want ...string) {
	f.t.Helper()
	slices.Sort(want)
	if got := f.index(user); !slices.Equal(got, want) {
		f.t.Errorf("%s: index of %q is %q, want %q", what, user, got, want)
	}
}

func entry(key string, token uint64, rec *store.Record) string {
	return fmt.Sprintf("%s %d", memberOf(key, token), ceilMs(rec.Deadline))
}

func ceilMs(t time.Time) int64 {
	return (t.UnixNano() + 999_999) / 1e6
}

func (f *fixture) do(cmd rueidis.Completed) rueidis.RedisResult {
	return f.admin.Do(f.ctx, cmd)
}

func (f *fixture) wantListed(user string, want ...string) {
	f.t.Helper()
	list, err := f.s.ListUser(f.ctx, user)
	if err != nil {
		f.t.Fatalf("ListUser(%q): %v", user, err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Key)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		f.t.Errorf("ListUser(%q): got %.8q, want %.8q", user, got, want)
	}
}

func TestIndexFollowsLoginUpdateMoveAndLogout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := newKey()
	rec := f.record("alice")
	f.save(key, rec)
	f.wantIndex("after the create", "alice", entry(key, 1, rec))

	rec.Data = []byte("updated")
	f.save(key, rec)
	f.wantIndex("after an update keeping user and deadline", "alice", entry(key, 1, rec))

	rec.Deadline = rec.Deadline.Add(24 * time.Hour) // remember me
	f.save(key, rec)
	f.wantIndex("after the deadline grew", "alice", entry(key, 3, rec))

	rec.UserID = "bob"
	f.save(key, rec)
	f.wantIndex("after moving to bob", "alice")
	f.wantIndex("after moving to bob", "bob", entry(key, 4, rec))

	rec.UserID = ""
	f.save(key, rec)
	f.wantIndex("after becoming anonymous", "bob")

	rec.UserID = "carol"
	f.save(key, rec)
	if err := f.s.Delete(f.ctx, key); err != nil {
		t.Fatal(err)
	}
	f.wantIndex("after the delete", "carol")
	keys, err := redistest.Shared(t).Keys(f.prefix)
	if err != nil || len(keys) != 0 {
		t.Errorf("after the delete: got keys %q (%v), want none", keys, err)
	}
}

func TestListUserPrunesStaleMembersAndKeepsPendingOnes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	live, moved, gone, pendingCreate, pendingUpdate := newKey(), newKey(), newKey(), newKey(), newKey()
	rec := f.record("alice")
	f.save(live, rec.Clone())
	f.save(pendingUpdate, rec.Clone())
	other := f.record("bob")
	f.save(moved, other)

	score := strconv.FormatInt(ceilMs(rec.Deadline), 10)
	past := strconv.FormatInt(ceilMs(f.clock.Now())-1, 10)
	add := func(score, member string) {
		if err := f.do(f.admin.B().Zadd().Key(f.indexKey("alice")).ScoreMember().ScoreMember(mustFloat(score), member).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	add(score, memberOf(live, 5))          // stale: a token no save can reach
	add(score, memberOf(moved, 1))         // stale: the record is bob's
	add(score, memberOf(gone, 2))          // stale: no record, and not a create
	add(score, memberOf(pendingCreate, 1)) // a create may be in flight
	add(score, memberOf(pendingUpdate, 2)) // a re-index to version 2 may be in flight
	add(past, memberOf(newKey(), 1))       // expired score
	add(score, "not a member of ours")

	f.wantListed("alice", live, pendingUpdate)
	f.wantIndex("after ListUser", "alice",
		entry(live, 1, rec), entry(pendingCreate, 1, rec), entry(pendingUpdate, 1, rec), entry(pendingUpdate, 2, rec))
}

func TestDeleteUserDeletesOnlyTheUsersRecords(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a1, a2, moved := newKey(), newKey(), newKey()
	f.save(a1, f.record("alice"))
	f.save(a2, f.record("alice"))
	bob := f.record("bob")
	f.save(moved, bob)
	// A stale member of alice's naming bob's record, as a crash between
	// a move and its index cleanup would leave.
	rec := f.record("alice")
	if err := f.do(f.admin.B().Zadd().Key(f.indexKey("alice")).ScoreMember().ScoreMember(float64(ceilMs(rec.Deadline)), memberOf(moved, 1)).Build()).Error(); err != nil {
		t.Fatal(err)
	}

	n, err := f.s.DeleteUser(f.ctx, "alice")
	if err != nil || n != 2 {
		t.Fatalf("DeleteUser: got %d, %v, want 2, nil", n, err)
	}
	for _, k := range []string{a1, a2} {
		if _, err := f.s.Load(f.ctx, k); err != store.ErrNotFound {
			t.Errorf("alice's session after DeleteUser: got %v, want ErrNotFound", err)
		}
	}
	if got, err := f.s.Load(f.ctx, moved); err != nil || got.UserID != "bob" {
		t.Errorf("bob's session after DeleteUser(alice): got %v, %v", got, err)
	}
	f.wantIndex("after DeleteUser", "alice")
	f.wantIndex("after DeleteUser", "bob", entry(moved, 1, bob))
}

func TestRecordsAndIndexesExpireInRedisAtTheirLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := newKey()
	rec := f.record("alice")
	rec.Expires = rec.Expires.Add(123 * time.Microsecond) // rounded up to the next ms
	f.save(key, rec)
	expireTime := func(k string) int64 {
		t.Helper()
		ms, err := f.do(f.admin.B().Pexpiretime().Key(k).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	if got, want := expireTime(f.prefix+"s:"+key), ceilMs(rec.Expires); got != want {
		t.Errorf("record expires at %d, want %d (Expires rounded up)", got, want)
	}
	if got, want := expireTime(f.indexKey("alice")), ceilMs(rec.Deadline); got != want {
		t.Errorf("index expires at %d, want %d (its member's deadline)", got, want)
	}

	expires := rec.Expires.Add(time.Hour)
	if err := f.s.Touch(f.ctx, key, f.clock.Now(), expires); err != nil {
		t.Fatal(err)
	}
	if got, want := expireTime(f.prefix+"s:"+key), ceilMs(expires); got != want {
		t.Errorf("after Touch, record expires at %d, want %d", got, want)
	}
	if err := f.s.Touch(f.ctx, key, f.clock.Now(), rec.Deadline.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, want := expireTime(f.prefix+"s:"+key), ceilMs(rec.Deadline); got != want {
		t.Errorf("after a Touch past the deadline, record expires at %d, want %d (the deadline)", got, want)
	}

	later := f.record("alice")
	later.Deadline = later.Deadline.Add(48 * time.Hour)
	f.save(newKey(), later)
	if got, want := expireTime(f.indexKey("alice")), ceilMs(later.Deadline); got != want {
		t.Errorf("index expires at %d, want %d (its longest-lived member)", got, want)
	}
}

func TestUserIDsCannotBreakOutOfTheirHashTag(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	users := []string{"a}b", "{x}", "50%", "%7D", "ユーザー"}
	keys := make(map[string]string)
	for _, u := range users {
		keys[u] = newKey()
		f.save(keys[u], f.record(u))
	}
	for _, u := range users {
		f.wantListed(u, keys[u])
	}
	if got := f.index("a%7Db"); len(got) != 1 {
		t.Errorf("index of user a}b: got %q, want one member under the escaped tag", got)
	}
	// A save that leaves the user removes the member from the index under
	// the escaped tag (on one server, a script escapes it), which leaves
	// the records and no index.
	for _, u := range users {
		rec := f.record("")
		rec.Version = 1
		f.save(keys[u], rec)
	}
	got, err := redistest.Shared(t).Keys(f.prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range got {
		if strings.HasPrefix(k, f.prefix+"u:") {
			t.Errorf("after every record left its user: index %q remains", k)
		}
	}
}

func TestLoadReportsACorruptValue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := newKey()
	if err := f.do(f.admin.B().Set().Key(f.prefix + "s:" + key).Value("not a record").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.Load(f.ctx, key)
	if !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Load: got %v, want ErrCorrupt", err)
	}
}

func TestEmptyPrefixMeansKeycardPrefix(t *testing.T) {
	t.Parallel()
	target := redistest.Shared(t)
	s := redis.New(target.Admin(), redis.Config{})
	key := newKey()
	ctx := t.Context()
	now := time.Now()
	if err := s.Save(ctx, key, &store.Record{Expires: now.Add(time.Minute), Deadline: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	defer s.Delete(context.Background(), key)
	n, err := target.Admin().Do(ctx, target.Admin().B().Exists().Key("keycard:s:"+key).Build()).AsInt64()
	if err != nil || n != 1 {
		t.Errorf("EXISTS keycard:s:<key>: got %d, %v, want 1", n, err)
	}
}

func TestNewPanicsOnABraceInThePrefix(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New with Prefix \"{app}:\": got no panic")
		}
	}()
	redis.New(nil, redis.Config{Prefix: "{app}:"})
}

func mustFloat(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	return v
}
