package goredis

import (
	"context"
	"errors"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/keycard-go/keycard/store/redis/internal/core"
)

// backend runs the store's commands with a go-redis client.
type backend struct {
	c goredis.UniversalClient
}

func (b backend) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := b.c.Get(ctx, key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err == nil && v == nil {
		v = []byte{}
	}
	return v, err
}

func (b backend) GetMulti(ctx context.Context, keys []string) ([][]byte, error) {
	cmds := make([]*goredis.StringCmd, len(keys))
	_, err := b.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	values := make([][]byte, len(keys))
	for i, cmd := range cmds {
		v, err := cmd.Bytes()
		switch {
		case errors.Is(err, goredis.Nil):
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

func (b backend) ZRange(ctx context.Context, key string) ([]core.Member, error) {
	zs, err := b.c.ZRangeWithScores(ctx, key, 0, -1).Result()
	if err != nil {
		return nil, err
	}
	members := make([]core.Member, len(zs))
	for i, z := range zs {
		name, _ := z.Member.(string)
		members[i] = core.Member{Name: name, Score: z.Score}
	}
	return members, nil
}

func (b backend) ZRem(ctx context.Context, key string, members ...string) error {
	args := make([]any, len(members))
	for i, m := range members {
		args[i] = m
	}
	return b.c.ZRem(ctx, key, args...).Err()
}

func (b backend) Eval(ctx context.Context, s *core.Script, keys, args []string) ([]string, error) {
	a := anys(args)
	cmd := b.c.EvalSha(ctx, s.SHA1, keys, a...)
	if isNoScript(cmd.Err()) {
		cmd = b.c.Eval(ctx, s.Source, keys, a...)
	}
	return cmd.StringSlice()
}

// EvalMulti pipelines EVALSHA and re-runs, pipelined again, with EVAL the
// calls that met a server without the script.
func (b backend) EvalMulti(ctx context.Context, s *core.Script, calls []core.Call) ([][]string, error) {
	cmds := make([]*goredis.Cmd, len(calls))
	run := func(idx []int, eval bool) error {
		_, err := b.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, i := range idx {
				c := calls[i]
				if eval {
					cmds[i] = p.Eval(ctx, s.Source, c.Keys, anys(c.Args)...)
				} else {
					cmds[i] = p.EvalSha(ctx, s.SHA1, c.Keys, anys(c.Args)...)
				}
			}
			return nil
		})
		return err
	}
	all := make([]int, len(calls))
	for i := range all {
		all[i] = i
	}
	err := run(all, false)
	var retry []int
	for i, cmd := range cmds {
		if isNoScript(cmd.Err()) {
			retry = append(retry, i)
		}
	}
	if len(retry) > 0 {
		err = run(retry, true)
	}
	if err != nil && len(retry) == 0 && !isNoScript(err) {
		return nil, err
	}
	replies := make([][]string, len(calls))
	for i, cmd := range cmds {
		v, err := cmd.StringSlice()
		if err != nil {
			return nil, err
		}
		replies[i] = v
	}
	return replies, nil
}

func isNoScript(err error) bool {
	return err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT")
}

func anys(args []string) []any {
	a := make([]any, len(args))
	for i, s := range args {
		a[i] = s
	}
	return a
}

// OneServer reports whether the client sends every command to one
// server: a standalone or failover client, not a ClusterClient or a Ring.
func (b backend) OneServer() bool {
	switch b.c.(type) {
	case *goredis.ClusterClient, *goredis.Ring:
		return false
	}
	return true
}

// Masters returns a client per master of a ClusterClient, per shard of a
// Ring, and the client itself otherwise (a standalone or failover
// client, which sends every command to the one master).
func (b backend) Masters(ctx context.Context) ([]core.Node, error) {
	var (
		mu    sync.Mutex
		nodes []core.Node
	)
	collect := func(_ context.Context, c *goredis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, node{c})
		return nil
	}
	var err error
	switch c := b.c.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *goredis.Ring:
		err = c.ForEachShard(ctx, collect)
	default:
		return []core.Node{node{b.c}}, nil
	}
	return nodes, err
}

// node runs the commands of a scan on one server.
type node struct {
	c goredis.Cmdable
}

func (n node) Scan(ctx context.Context, cursor uint64, match string, count int64) (uint64, []string, error) {
	keys, next, err := n.c.ScanType(ctx, cursor, match, count, "string").Result()
	return next, keys, err
}

func (n node) DBSize(ctx context.Context) (int64, error) {
	return n.c.DBSize(ctx).Result()
}
