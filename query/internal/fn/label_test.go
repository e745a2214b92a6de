package fn

import (
	"testing"
	"time"
)

func TestLabelFunctions(t *testing.T) {
	// early and late never have a sample at the same step: relabelled
	// alike, they merge instead of colliding.
	e := newInstEnv(t, `
load 1m
	up{job="api", instance="a:9090", env="prod"} 1 1 0 1 1 1
	up{job="api", instance="b:9090"} 0 1 1 _ 1 1
	up{job="db", instance="c:5432", env=""} 1 1 1 1 1 1
	down{job="api", instance="a:9090", env="prod"} 1 0 1 0 1 0
	early{k="x", job="e"} 1 2 stale
	late{k="y", job="e"} _ _ _ _ _ _ _ _ 3 4
`)
	grids := []instGrid{
		instRange(0, 10*time.Minute, time.Minute),
		instAt(2 * time.Minute),
	}
	e.checkAll(t, []string{
		`label_replace(up, "host", "$1", "instance", "(.*):.*")`,
		`label_replace(up, "host", "$1", "instance", "(.*):5432")`,
		`label_replace(up, "host", "$1-${2}x$3", "instance", "(.*):(.*)")`,
		`label_replace(up, "host", "$name", "instance", "(?P<name>[a-z]+).*")`,
		`label_replace(up, "env", "", "env", ".*")`,
		`label_replace(up, "env", "", "job", "api")`,
		`label_replace(up, "job", "x", "nope", "")`,
		`label_replace(up, "job", "x", "nope", ".+")`,
		`label_replace(up, "job", "$1", "instance", "(?s:.*)\n?")`,
		// Collisions: everything becomes one series.
		`label_replace(up, "instance", "", "instance", ".*")`,
		`label_replace({__name__=~"early|late"}, "__name__", "same", "k", ".*")`,
		`label_replace({__name__=~"early|late"}, "k", "same", "k", ".*")`,
		// __name__: written names stay, other writes keep DropName.
		`label_replace(up, "__name__", "up_$1", "job", "(.*)")`,
		`label_replace(up, "__name__", "", "job", "(.*)")`,
		`label_replace(abs(up), "__name__", "abs_$1", "job", "(.*)")`,
		`label_replace(abs(up), "__name__", "abs", "job", "db")`,
		`label_replace(abs(up), "host", "h", "job", "(.*)")`,
		`label_replace(abs({__name__=~"up|down"}), "__name__", "x_$1", "__name__", "(.*)")`,
		`label_replace(abs({__name__=~"up|down"}), "n", "$1", "__name__", "(.*)")`,
		`label_replace(vector(1), "a", "b", "", "")`,

		`label_join(up, "id", "/", "job", "instance")`,
		`label_join(up, "id", "", "job", "env", "instance")`,
		`label_join(up, "id", "-")`,
		`label_join(up, "env", "-", "nope")`,
		`label_join(up, "job", ",", "job", "job")`,
		`label_join(up, "__name__", "_", "__name__", "job")`,
		`label_join(abs(up), "__name__", "_", "__name__", "job")`,
		`label_join(abs(up), "id", "_", "__name__", "job")`,
		`label_join({__name__=~"early|late"}, "k", "", "job")`,
		`label_join(up, "instance", "", "job")`,

		// Prometheus's argument errors, checked even over no series.
		`label_replace(up, "host", "$1", "instance", "(")`,
		`label_replace(nothing, "host", "$1", "instance", "[")`,
		`label_replace(up, "", "$1", "instance", "(.*)")`,
		`label_replace(up, "\xff", "$1", "instance", "(.*)")`,
		`label_replace(up, "", "$1", "instance", "(")`,
		`label_join(up, "", "-", "job")`,
		`label_join(up, "id", "-", "job", "")`,
		`label_join(nothing, "id", "-", "\xfe", "job")`,
		`label_join(up, "", "-", "\xfe")`,
		`label_join(up, "dst ok", "-", "utf8 ✓")`,
	}, grids...)
}
