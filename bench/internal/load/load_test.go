package load

import (
	"strings"
	"testing"
)

func TestRunRefusesAHostOffLoopback(t *testing.T) {
	for _, cfg := range []Config{
		{Host: "192.0.2.1:80", Path: "/read", Conns: 1},
		{Hosts: []string{"127.0.0.1:1", "192.0.2.1:80"}, Path: "/read", Conns: 2},
		{Hosts: []string{"127.0.0.1"}, Path: "/read", Conns: 1}, // no port
	} {
		if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%+v: error %v, want a refusal of the host", cfg, err)
		}
	}
}
