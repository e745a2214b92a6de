package almanac_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/model/labels"
	"go.uber.org/goleak"

	"github.com/almanacdb/almanac"
)

// crashOptions make cuts, checkpoints and out-of-order merges frequent, so
// a kill lands in the middle of each.
var crashOptions = almanac.Options{ChunkSamples: 7, CheckpointBytes: 16 << 10, OutOfOrderWindow: time.Hour}

const crashSeries = 10

// crashBatch is batch n of the crash test: every series gets a sample, the
// last one out of order, and a new series is created.
func crashBatch(base int64, n int) []almanac.SeriesSamples {
	var b []almanac.SeriesSamples
	for k := range crashSeries {
		b = append(b, almanac.SeriesSamples{
			Labels:  labels.FromStrings("__name__", "crash_test", "k", strconv.Itoa(k)),
			Samples: []almanac.Sample{{T: base + int64(n)*100, V: float64(n*crashSeries + k)}},
		})
	}
	if n > 5 { // an out-of-order sample between earlier batches' timestamps
		b[0].Samples = append(b[0].Samples, almanac.Sample{T: base + int64(n-5)*100 + 50, V: -float64(n)})
	}
	b = append(b, almanac.SeriesSamples{
		Labels:  labels.FromStrings("__name__", "crash_new", "n", strconv.Itoa(n)),
		Samples: []almanac.Sample{{T: base + int64(n)*100, V: math.Float64frombits(0x7ff0000000000002)}},
	})
	return b
}

// TestMain lets the crash test re-run this binary as the child that appends.
func TestMain(m *testing.M) {
	if dir := os.Getenv("ALMANAC_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	code := m.Run()
	if code == 0 {
		// Every DB, SeriesSet and engine a test opened must be closed.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines outlived the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// crashChild appends batches from ALMANAC_CRASH_FROM on, printing "ack N"
// after each Append returns nil, until it is killed.
func crashChild(dir string) {
	base, _ := strconv.ParseInt(os.Getenv("ALMANAC_CRASH_BASE"), 10, 64)
	from, _ := strconv.Atoi(os.Getenv("ALMANAC_CRASH_FROM"))
	db, err := almanac.Open(dir, &crashOptions)
	if err != nil {
		fmt.Println("open error:", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	for n := from; ; n++ {
		if err := db.Append(context.Background(), crashBatch(base, n)); err != nil {
			fmt.Fprintln(out, "append error:", err)
			out.Flush()
			os.Exit(3)
		}
		fmt.Fprintf(out, "ack %d\n", n)
		out.Flush()
	}
}

// TestCrashKeepsAcknowledgedSamples kills an appending child process with
// SIGKILL at random moments, several rounds on one directory, and checks
// after each that every acknowledged sample and series is there.
func TestCrashKeepsAcknowledgedSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test spawns processes; skipped with -short")
	}
	rng := rand.New(rand.NewPCG(testSeed(t), 3))
	dir := t.TempDir()
	base := time.Now().Add(-30 * time.Minute).UnixMilli()
	acked := -1
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "ALMANAC_CRASH_CHILD="+dir,
			"ALMANAC_CRASH_BASE="+strconv.FormatInt(base, 10),
			"ALMANAC_CRASH_FROM="+strconv.Itoa(acked+1))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		deadline := time.After(time.Duration(100+rng.IntN(400)) * time.Millisecond)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: child exited early", round)
				}
				var n int
				if _, err := fmt.Sscanf(l, "ack %d", &n); err != nil {
					t.Fatalf("round %d: child said %q", round, l)
				}
				acked = n
			case <-deadline:
				break read
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for l := range lines { // acks written before the kill count too
			var n int
			if _, err := fmt.Sscanf(l, "ack %d", &n); err == nil {
				acked = n
			}
		}
		cmd.Wait()
		t.Logf("round %d: killed after %d acknowledged batches", round, acked+1)
		checkCrashData(t, dir, base, acked)
	}
	if acked < 20 {
		t.Fatalf("only %d batches acknowledged in all rounds: the test did not exercise anything", acked+1)
	}
}

func checkCrashData(t *testing.T, dir string, base int64, acked int) {
	t.Helper()
	checkCrashDataWith(t, dir, &crashOptions, base, acked)
}

// checkCrashDataWith opens dir with opts and checks that batches 0..acked
// are all there.
func checkCrashDataWith(t *testing.T, dir string, opts *almanac.Options, base int64, acked int) {
	t.Helper()
	db, err := almanac.Open(dir, opts)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	got := readAll(t, db, math.MinInt64, math.MaxInt64)
	want := map[string]map[int64]float64{}
	for n := 0; n <= acked; n++ {
		for _, s := range crashBatch(base, n) {
			key := s.Labels.String()
			if want[key] == nil {
				want[key] = map[int64]float64{}
			}
			for _, smp := range s.Samples {
				want[key][smp.T] = smp.V
			}
		}
	}
	for key, samples := range want {
		have := map[int64]uint64{}
		for _, s := range got[key] {
			have[s.T] = math.Float64bits(s.V)
		}
		for ts, v := range samples {
			if b, ok := have[ts]; !ok || b != math.Float64bits(v) {
				t.Fatalf("acknowledged sample %s t=%d v=%v lost after kill (have %v)", key, ts, v, ok)
			}
		}
	}
	names, err := db.Querier(math.MinInt64, math.MaxInt64).LabelValues(context.Background(), "n")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < acked+1 {
		t.Fatalf("label index lost series: %d values of n, want at least %d", len(names), acked+1)
	}
	for key := range got {
		if !strings.HasPrefix(key, "{__name__=\"crash_") {
			t.Fatalf("unexpected series %s", key)
		}
	}
}

// TestPowerLossKeepsSyncedBatches simulates power losses with pebble's
// crashable in-memory file system: a clone keeps only what was fsynced
// (plus a random part of what was not). Every batch Append acknowledged
// must be in the clone, with its series and labels.
func TestPowerLossKeepsSyncedBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 11))
	fs := vfs.NewCrashableMem()
	opts := crashOptions
	opts.FS = fs
	db, err := almanac.Open("db", &opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Now().Add(-30 * time.Minute).UnixMilli()
	for n := range 120 {
		if err := db.Append(context.Background(), crashBatch(base, n)); err != nil {
			t.Fatal(err)
		}
		if rng.IntN(15) != 0 {
			continue
		}
		clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rng})
		copts := crashOptions
		copts.FS = clone
		checkCrashDataWith(t, "db", &copts, base, n)
	}
}
