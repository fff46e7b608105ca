package core

import (
	"crypto/sha1"
	"encoding/hex"
)

// Script is one Lua script of the store. Every script but scriptSaveIndexed
// and scriptSaveBatch touches only the key in KEYS[1], so it runs on Redis
// Cluster, and each replies with an array of strings. A Backend runs it by
// SHA1 (EVALSHA) and falls back to EVAL when the server does not have it
// yet.
type Script struct {
	// Name names the script in errors and tests.
	Name string
	// Source is the Lua source.
	Source string
	// SHA1 is the hex SHA1 digest of Source, for EVALSHA.
	SHA1 string
}

func newScript(name, body string) *Script {
	src := luaPrelude + body
	sum := sha1.Sum([]byte(src))
	return &Script{Name: name, Source: src, SHA1: hex.EncodeToString(sum[:])}
}

// luaPrelude holds the helpers every script may use. A value is a record
// of ours when it starts with the format byte ('K' = 75) and is at least a
// header long; live compares the header's expires and deadline with now,
// all three int64 nanoseconds read as (signed high, unsigned low) 32-bit
// halves so that Lua's doubles compare them exactly.
const luaPrelude = `
local function ours(h)
  return #h == 53 and string.byte(h, 1) == 75
end
local function before(a, ai, b, bi)
  local ah, al = struct.unpack('>i4I4', a, ai)
  local bh, bl = struct.unpack('>i4I4', b, bi)
  return ah < bh or (ah == bh and al < bl)
end
local function live(h, now)
  return before(now, 1, h, 10) and before(now, 1, h, 18)
end
local function user(key, h)
  local n = struct.unpack('>I4', h, 50)
  if n == 0 then
    return ''
  end
  return redis.call('GETRANGE', key, 53, 52 + n)
end
-- current reads the record under key for a compare-and-set against the
-- expected version (8 bytes, 0 for none): nil when the live record's
-- version differs, else its header, whether it is live, and its user and
-- index token ('' when it has none).
local function current(key, expected, now)
  local h = redis.call('GETRANGE', key, 0, 52)
  local mine = ours(h)
  local alive = mine and live(h, now)
  local cur = string.rep(string.char(0), 8)
  if alive then
    cur = string.sub(h, 2, 9)
  end
  if cur ~= expected then
    return nil
  end
  local u, token = '', ''
  if mine then
    u = user(key, h)
    if u ~= '' then
      token = string.sub(h, 42, 49)
    end
  end
  return h, alive, u, token
end
`

// luaPut holds put, the write of one record that scriptSaveIndexed and
// scriptSaveBatch share: it follows the compare-and-set that current
// made, and keeps the user indexes (see scriptSaveIndexed). It adds the
// record to its user's index when the record gets a user, another user,
// or a later deadline (a live record whose user and deadline stay keeps
// its entry and index token), writes the value with its expiry and index
// token, and removes the entry of the value it replaces from that value's
// user's index when it no longer holds. That index's key is made here
// from the stored user ID (escaped as indexKey escapes it), since the
// caller cannot know it.
//
//	key     the record key
//	ikey    the new value's user's index key (unused without a user)
//	h, alive, u, token  what current returned for key
//	v       the new value, whose index token is 0
//	pxat    PXAT milliseconds
//	score   the index score: the deadline in Unix ms, rounded up
//	stem    the member's stem (memberStem of the key)
//	version the new version in decimal: the token of a new index entry
//	uprefix the prefix of index keys: Config.Prefix .. 'u:{'
const luaPut = `
local function put(key, ikey, h, alive, u, token, v, pxat, score, stem, version, uprefix)
  local nu = string.sub(v, 54, 53 + struct.unpack('>I4', v, 50))
  local keep = ''
  if nu ~= '' then
    if alive and u == nu and struct.unpack('>i8', v, 34) <= struct.unpack('>i8', h, 34) then
      keep = token
    else
      keep = string.sub(v, 2, 9)
      redis.call('ZADD', ikey, 'GT', score, stem .. version)
      local top = redis.call('ZRANGE', ikey, -1, -1, 'WITHSCORES')
      redis.call('PEXPIREAT', ikey, top[2])
    end
  end
  redis.call('SET', key, v, 'PXAT', pxat)
  if keep ~= '' then
    redis.call('SETRANGE', key, 41, keep)
  end
  if u ~= '' and (u ~= nu or token ~= keep) then
    local hi, lo = struct.unpack('>I4I4', token)
    local escaped = string.gsub(u, '[%%{}]', {['%'] = '%25', ['{'] = '%7B', ['}'] = '%7D'})
    redis.call('ZREM', uprefix .. escaped .. '}', stem .. string.format('%.0f', hi * 4294967296 + lo))
  end
end
`

// Scripts lists every script, for backends that prepare them.
var Scripts = []*Script{scriptSave, scriptSaveIndexed, scriptSaveBatch, scriptTouch, scriptDelete, scriptDeleteUser, scriptIndexAdd, scriptIndexPrune}

// scriptSave is the compare-and-set of Save.
//
//	KEYS[1] the record key
//	ARGV[1] mode: 'c' to write the value as it is, 'f' (fast path) to
//	        write it only if the live record has the same user and a
//	        deadline no earlier, keeping the stored index token
//	ARGV[2] the expected version, 8 bytes (0 for a new record)
//	ARGV[3] now, 8 bytes
//	ARGV[4] the new value
//	ARGV[5] PXAT milliseconds
//
// Replies {'conflict'}; {'index'} when mode 'f' cannot keep the index
// entry (nothing written); {'ok'} in mode 'f'; {'ok', user, token} in mode
// 'c', naming the index entry of the value it replaced (empty when none).
var scriptSave = newScript("save", `
local h, alive, u, token = current(KEYS[1], ARGV[2], ARGV[3])
if not h then
  return {'conflict'}
end
local v = ARGV[4]
if ARGV[1] == 'f' then
  local n = struct.unpack('>I4', v, 50)
  if not alive or u ~= string.sub(v, 54, 53 + n) or struct.unpack('>i8', v, 34) > struct.unpack('>i8', h, 34) then
    return {'index'}
  end
  redis.call('SET', KEYS[1], v, 'PXAT', ARGV[5])
  redis.call('SETRANGE', KEYS[1], 41, token)
  return {'ok'}
end
redis.call('SET', KEYS[1], v, 'PXAT', ARGV[5])
return {'ok', u, token}
`)

// scriptSaveIndexed is Save in one round trip where every key lives on one
// server (Backend.OneServer): the compare-and-set of scriptSave and the
// user index's upkeep (put, in luaPut) in one atomic script, which the
// store splits into scriptIndexAdd, scriptSave and ZREM on Redis Cluster,
// whose slots would refuse it. Its arguments are laid out as
// scriptSaveBatch's for one entry.
//
//	KEYS[1] the record key
//	KEYS[2] the new value's user's index key (only with a user)
//	ARGV[1] now, 8 bytes
//	ARGV[2] the prefix of index keys: Config.Prefix .. 'u:{'
//	ARGV[3] the expected version, 8 bytes (0 for a new record)
//	ARGV[4] the new value, whose index token is 0
//	ARGV[5] PXAT milliseconds
//	ARGV[6] the index score: the deadline in Unix ms, rounded up
//	ARGV[7] the member's stem (memberStem of the key)
//	ARGV[8] the new version in decimal: the token of a new index entry
//
// Replies {'ok'} or {'conflict'}.
var scriptSaveIndexed = newScript("save-indexed", luaPut+`
local h, alive, u, token = current(KEYS[1], ARGV[3], ARGV[1])
if not h then
  return {'conflict'}
end
put(KEYS[1], KEYS[2], h, alive, u, token, ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[2])
return {'ok'}
`)

// scriptSaveBatch is SaveBatch where every key lives on one server: the
// compare-and-set of every entry first, and only when all of them hold,
// the write of every entry as scriptSaveIndexed writes one, all in one
// atomic script.
//
//	KEYS[2i-1] entry i's record key
//	KEYS[2i]   the index key of entry i's new user, or the record key
//	           again when it has none
//	ARGV[1]    now, 8 bytes
//	ARGV[2]    the prefix of index keys: Config.Prefix .. 'u:{'
//
// then six arguments per entry (entryArgs), entry i's from ARGV[6i-3]:
// the expected version, the new value, PXAT milliseconds, the index
// score, the member's stem and the new version in decimal, as
// scriptSaveIndexed takes them in ARGV[3] to ARGV[8].
//
// Replies {'ok'}, or {'conflict'} having written nothing.
var scriptSaveBatch = newScript("save-batch", luaPut+`
local cur = {}
for i = 1, #KEYS / 2 do
  local h, alive, u, token = current(KEYS[2 * i - 1], ARGV[6 * i - 3], ARGV[1])
  if not h then
    return {'conflict'}
  end
  cur[i] = {h, alive, u, token}
end
for i, c in ipairs(cur) do
  local a = 6 * i - 3
  put(KEYS[2 * i - 1], KEYS[2 * i], c[1], c[2], c[3], c[4], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[2])
end
return {'ok'}
`)

// scriptTouch sets expires and last seen of a live record and moves its
// expiry; it never creates a record.
//
//	KEYS[1] the record key
//	ARGV[1] now, 8 bytes
//	ARGV[2] last seen, 8 bytes
//	ARGV[3] expires, 8 bytes
//	ARGV[4] expires in Unix ms, rounded up
//
// Replies {'ok'} or {'absent'}.
var scriptTouch = newScript("touch", `
local h = redis.call('GETRANGE', KEYS[1], 0, 52)
if not ours(h) or not live(h, ARGV[1]) then
  return {'absent'}
end
-- expires, the deadline as it is, and last seen are adjacent
redis.call('SETRANGE', KEYS[1], 9, ARGV[3] .. string.sub(h, 18, 25) .. ARGV[2])
local at = tonumber(ARGV[4])
local d = struct.unpack('>i8', h, 34)
if d < at then
  at = d
end
redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', at))
return {'ok'}
`)

// scriptDelete deletes a record and names its index entry.
//
//	KEYS[1] the record key
//
// Replies {user, token}, both empty when the record had no user.
var scriptDelete = newScript("delete", `
local h = redis.call('GETRANGE', KEYS[1], 0, 52)
local u, token = '', ''
if ours(h) then
  u = user(KEYS[1], h)
  if u ~= '' then
    token = string.sub(h, 42, 49)
  end
end
redis.call('DEL', KEYS[1])
return {u, token}
`)

// scriptDeleteUser deletes a record if it belongs to a user.
//
//	KEYS[1] the record key
//	ARGV[1] the user ID
//	ARGV[2] now, 8 bytes
//
// Replies {'absent'}; {'deleted', live} ('1' or '0'); or {'other', live,
// version (8 bytes)} when the record belongs to someone else.
var scriptDeleteUser = newScript("delete-user", `
local h = redis.call('GETRANGE', KEYS[1], 0, 52)
if not ours(h) then
  return {'absent'}
end
local alive = '0'
if live(h, ARGV[2]) then
  alive = '1'
end
if user(KEYS[1], h) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {'deleted', alive}
end
return {'other', alive, string.sub(h, 2, 9)}
`)

// scriptIndexAdd adds a member to a user's index, keeping the higher score
// if it is there already, and makes the index expire with its
// longest-lived member.
//
//	KEYS[1] the index key
//	ARGV[1] the score: the record's deadline in Unix ms, rounded up
//	ARGV[2] the member
var scriptIndexAdd = newScript("index-add", `
redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
return {'ok'}
`)

// scriptIndexPrune removes expired scores and stale members from a user's
// index.
//
//	KEYS[1] the index key
//	ARGV[1] the highest expired score (Unix ms of now, rounded down)
//	ARGV[2…] members to remove
var scriptIndexPrune = newScript("index-prune", `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for i = 2, #ARGV, 500 do
  redis.call('ZREM', KEYS[1], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
return {'ok'}
`)
