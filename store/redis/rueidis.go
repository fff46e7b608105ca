package redis

import (
	"context"
	"maps"
	"slices"

	"github.com/redis/rueidis"

	"github.com/keycard-go/keycard/store/redis/internal/core"
)

// rueidisBackend runs the store's commands with a rueidis client, with
// plain Do and DoMulti: client-side caching is never used for sessions,
// whose every read must see the latest write.
type rueidisBackend struct {
	c       rueidis.Client
	scripts map[*core.Script]*rueidis.Lua
}

func newRueidisBackend(c rueidis.Client) *rueidisBackend {
	b := &rueidisBackend{c: c, scripts: make(map[*core.Script]*rueidis.Lua, len(core.Scripts))}
	for _, s := range core.Scripts {
		b.scripts[s] = rueidis.NewLuaScript(s.Source)
	}
	return b
}

func (b *rueidisBackend) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := b.c.Do(ctx, b.c.B().Get().Key(key).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	if err == nil && v == nil {
		v = []byte{}
	}
	return v, err
}

func (b *rueidisBackend) GetMulti(ctx context.Context, keys []string) ([][]byte, error) {
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = b.c.B().Get().Key(k).Build()
	}
	values := make([][]byte, len(keys))
	for i, r := range b.c.DoMulti(ctx, cmds...) {
		v, err := r.AsBytes()
		switch {
		case rueidis.IsRedisNil(err):
		case err != nil:
			return nil, err
		case v == nil:
			values[i] = []byte{}
		default:
			values[i] = v
		}
	}
	return values, nil
}

func (b *rueidisBackend) ZRange(ctx context.Context, key string) ([]core.Member, error) {
	zs, err := b.c.Do(ctx, b.c.B().Zrange().Key(key).Min("0").Max("-1").Withscores().Build()).AsZScores()
	if err != nil {
		return nil, err
	}
	members := make([]core.Member, len(zs))
	for i, z := range zs {
		members[i] = core.Member{Name: z.Member, Score: z.Score}
	}
	return members, nil
}

func (b *rueidisBackend) ZRem(ctx context.Context, key string, members ...string) error {
	return b.c.Do(ctx, b.c.B().Zrem().Key(key).Member(members...).Build()).Error()
}

func (b *rueidisBackend) Eval(ctx context.Context, s *core.Script, keys, args []string) ([]string, error) {
	return b.scripts[s].Exec(ctx, b.c, keys, args).AsStrSlice()
}

// EvalMulti pipelines EVALSHA and re-runs, pipelined again, with EVAL the
// calls that met a server without the script. (rueidis's Lua.ExecMulti
// would instead load the script on every node each time.)
func (b *rueidisBackend) EvalMulti(ctx context.Context, s *core.Script, calls []core.Call) ([][]string, error) {
	cmds := make(rueidis.Commands, len(calls))
	for i, c := range calls {
		cmds[i] = b.c.B().Evalsha().Sha1(s.SHA1).Numkeys(int64(len(c.Keys))).Key(c.Keys...).Arg(c.Args...).Build()
	}
	replies := make([][]string, len(calls))
	var retry []int
	for i, r := range b.c.DoMulti(ctx, cmds...) {
		if err, ok := rueidis.IsRedisErr(r.Error()); ok && err.IsNoScript() {
			retry = append(retry, i)
			continue
		}
		v, err := r.AsStrSlice()
		if err != nil {
			return nil, err
		}
		replies[i] = v
	}
	if len(retry) == 0 {
		return replies, nil
	}
	cmds = cmds[:0]
	for _, i := range retry {
		c := calls[i]
		cmds = append(cmds, b.c.B().Eval().Script(s.Source).Numkeys(int64(len(c.Keys))).Key(c.Keys...).Arg(c.Args...).Build())
	}
	for j, r := range b.c.DoMulti(ctx, cmds...) {
		v, err := r.AsStrSlice()
		if err != nil {
			return nil, err
		}
		replies[retry[j]] = v
	}
	return replies, nil
}

// OneServer reports whether the client sends every command to one
// server: a standalone or Sentinel client, not a cluster client.
func (b *rueidisBackend) OneServer() bool {
	return b.c.Mode() != rueidis.ClientModeCluster
}

// Masters returns the client itself for a standalone or Sentinel client,
// which sends every command to the one master, and a client per master
// for a cluster client, asking each node its ROLE.
func (b *rueidisBackend) Masters(ctx context.Context) ([]core.Node, error) {
	if b.c.Mode() != rueidis.ClientModeCluster {
		return []core.Node{rueidisNode{b.c}}, nil
	}
	nodes := b.c.Nodes()
	addrs := slices.Sorted(maps.Keys(nodes))
	var masters []core.Node
	for _, addr := range addrs {
		c := nodes[addr]
		role, err := c.Do(ctx, c.B().Role().Build()).ToArray()
		if err != nil {
			return nil, err
		}
		if len(role) > 0 {
			if r, _ := role[0].ToString(); r == "master" {
				masters = append(masters, rueidisNode{c})
			}
		}
	}
	return masters, nil
}

// rueidisNode runs the commands of a scan on one server.
type rueidisNode struct {
	c rueidis.Client
}

func (n rueidisNode) Scan(ctx context.Context, cursor uint64, match string, count int64) (uint64, []string, error) {
	e, err := n.c.Do(ctx, n.c.B().Scan().Cursor(cursor).Match(match).Count(count).Type("string").Build()).AsScanEntry()
	return e.Cursor, e.Elements, err
}

func (n rueidisNode) DBSize(ctx context.Context) (int64, error) {
	return n.c.Do(ctx, n.c.B().Dbsize().Build()).AsInt64()
}
