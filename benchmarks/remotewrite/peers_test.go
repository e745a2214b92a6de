//go:build loadbench

package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/server"
)

// peer is a remote-write receiver the benchmark can start.
type peer struct {
	name string
	// inProcess peers run inside the test binary: their RSS and CPU
	// include the load generator's.
	inProcess bool
	// resolve finds the peer's binary (building almanac) and returns its
	// version; an error means the peer cannot run on this machine.
	resolve func(t *testing.T) (version string, err error)
	// start runs the peer on addr with its data in dataDir.
	start func(t *testing.T, dataDir, addr string) (*instance, error)
	// compact, if set, rewrites a stopped peer's data directory as compactly
	// as the peer can, to show what part of its disk use is transient.
	compact func(dataDir string) error
}

// instance is a started peer.
type instance struct {
	url      string // base URL, no trailing slash
	readyURL string
	countURL func(query string, t int64) string // instant query URL
	pid      int
	// stop stops the peer gracefully and waits until it has exited (or, in
	// process, closed its storage).
	stop func() error
	log  string // where the peer's output went, for failures
}

// peers lists every peer the benchmark knows.
func peers() []*peer {
	almanacBin := &almanacBuild{}
	return []*peer{
		nullPeer(),
		almanacPeer("almanac", almanacBin),
		almanacPeer("almanac-nosync", almanacBin, "--no-sync"),
		almanacInProcessPeer(),
		victoriaMetricsPeer(),
		prometheusPeer(),
	}
}

// defaultPeers is what a run without -peers starts: the in-process almanac
// is for profiles only.
const defaultPeers = "null,almanac,almanac-nosync,victoriametrics,prometheus"

// promQueryURL is the instant-query URL of a Prometheus-compatible API.
func promQueryURL(base, extra string) func(string, int64) string {
	return func(q string, t int64) string {
		return base + "/api/v1/query?query=" + url.QueryEscape(q) + "&time=" + strconv.FormatFloat(float64(t)/1000, 'f', 3, 64) + extra
	}
}

// almanacBuild builds cmd/almanac once per run, into a temporary
// directory of the first test that asks (the top-level test, via resolve).
type almanacBuild struct {
	once    sync.Once
	bin     string
	version string
	err     error
}

func (b *almanacBuild) get(t *testing.T) (string, string, error) {
	b.once.Do(func() {
		b.bin = filepath.Join(t.TempDir(), "almanac")
		goCmd := os.Getenv("GO")
		if goCmd == "" {
			goCmd = "go"
		}
		out, err := exec.Command(goCmd, "build", "-o", b.bin, "github.com/almanacdb/almanac/cmd/almanac").CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("building almanac: %v: %s", err, out)
			return
		}
		out, err = exec.Command(b.bin, "version").Output()
		if err != nil {
			b.err = fmt.Errorf("almanac version: %v", err)
			return
		}
		b.version = strings.TrimSpace(string(out))
	})
	return b.bin, b.version, b.err
}

// compactAlmanac reopens a stopped almanac's directory and flushes it: a
// checkpoint, the day-chunk merge and a full pebble compaction, which drops
// the head log the shutdown checkpoint deleted.
func compactAlmanac(dataDir string) error {
	db, err := almanac.Open(dataDir, &almanac.Options{})
	if err != nil {
		return err
	}
	return errors.Join(db.Flush(), db.Close())
}

func almanacPeer(name string, build *almanacBuild, extraArgs ...string) *peer {
	return &peer{
		name:    name,
		compact: compactAlmanac,
		resolve: func(t *testing.T) (string, error) {
			_, v, err := build.get(t)
			return v, err
		},
		start: func(t *testing.T, dataDir, addr string) (*instance, error) {
			bin, _, err := build.get(t)
			if err != nil {
				return nil, err
			}
			args := append([]string{"serve", "--data", dataDir, "--listen", addr}, extraArgs...)
			inst, err := startProcess(t, name, bin, args, addr, "/-/ready")
			if err != nil {
				return nil, err
			}
			inst.countURL = promQueryURL(inst.url, "")
			return inst, nil
		},
	}
}

// almanacInProcessPeer serves almanac from the test binary, so that
// -cpuprofile shows where the server's time goes.
func almanacInProcessPeer() *peer {
	return &peer{
		name:      "almanac-inprocess",
		inProcess: true,
		compact:   compactAlmanac,
		resolve:   func(*testing.T) (string, error) { return "in process", nil },
		start: func(t *testing.T, dataDir, addr string) (*instance, error) {
			db, err := almanac.Open(dataDir, nil)
			if err != nil {
				return nil, err
			}
			srv := server.New(db, server.Config{})
			inst, err := serveInProcess(addr, srv, func() error { return db.Close() })
			if err != nil {
				return nil, errors.Join(err, db.Close())
			}
			inst.countURL = promQueryURL(inst.url, "")
			return inst, nil
		},
	}
}

// nullPeer accepts every request and discards it: the load generator's
// own ceiling on this machine.
func nullPeer() *peer {
	return &peer{
		name:      "null",
		inProcess: true,
		resolve:   func(*testing.T) (string, error) { return "discards the body", nil },
		start: func(t *testing.T, dataDir, addr string) (*instance, error) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.Copy(io.Discard, r.Body); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			return serveInProcess(addr, h, func() error { return nil })
		},
	}
}

func victoriaMetricsPeer() *peer {
	return &peer{
		name: "victoriametrics",
		resolve: func(t *testing.T) (string, error) {
			if _, err := exec.LookPath("victoria-metrics"); err != nil {
				return "", fmt.Errorf("victoria-metrics not installed (Debian package victoria-metrics; make bench-remote-write installs it): %w", err)
			}
			return debianVersion("victoria-metrics"), nil
		},
		start: func(t *testing.T, dataDir, addr string) (*instance, error) {
			inst, err := startProcess(t, "victoriametrics", "victoria-metrics", []string{
				"-storageDataPath", dataDir,
				"-httpListenAddr", addr,
				"-retentionPeriod", "1", // month, the default
				"-search.maxUniqueTimeseries", strconv.Itoa(max(300_000, 2**flagSeries)),
			}, addr, "/health")
			if err != nil {
				return nil, err
			}
			// nocache: the check must see the data just written, not a
			// cached answer; VictoriaMetrics' -search.latencyOffset does
			// not matter here as the query time is the last sample's.
			inst.countURL = promQueryURL(inst.url, "&nocache=1")
			return inst, nil
		},
	}
}

func prometheusPeer() *peer {
	return &peer{
		name: "prometheus",
		resolve: func(t *testing.T) (string, error) {
			if _, err := exec.LookPath("prometheus"); err != nil {
				return "", fmt.Errorf("prometheus not installed (Debian package prometheus; make bench-remote-write installs it): %w", err)
			}
			out, err := exec.Command("prometheus", "--version").CombinedOutput()
			if err != nil {
				return "", fmt.Errorf("prometheus --version: %v: %s", err, out)
			}
			// "prometheus, version 2.42.0+ds (branch: ...)"
			f := strings.Fields(string(out))
			if len(f) < 3 || f[1] != "version" {
				return "", fmt.Errorf("prometheus --version: unexpected %q", out)
			}
			return f[2], nil
		},
		start: func(t *testing.T, dataDir, addr string) (*instance, error) {
			// The configuration lives next to the data directory, so that
			// the directory holds only what Prometheus wrote.
			cfg := dataDir + ".yml"
			if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 15s\n"), 0o644); err != nil {
				return nil, err
			}
			inst, err := startProcess(t, "prometheus", "prometheus", []string{
				"--config.file=" + cfg,
				"--storage.tsdb.path=" + dataDir,
				"--web.listen-address=" + addr,
				"--web.enable-remote-write-receiver",
			}, addr, "/-/ready")
			if err != nil {
				return nil, err
			}
			inst.countURL = promQueryURL(inst.url, "")
			return inst, nil
		},
	}
}

// debianVersion is an installed Debian package's version, or "unknown".
func debianVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil || len(out) == 0 {
		return "unknown"
	}
	return string(out)
}

// startProcess starts bin with args, its output in a log file, and waits
// until readyPath on addr answers 200.
func startProcess(t *testing.T, name, bin string, args []string, addr, readyPath string) (*instance, error) {
	logDir := os.Getenv("LOADBENCH_LOGS") // kept after the run when set
	if logDir == "" {
		logDir = t.TempDir()
	}
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		logFile.Close()
	}()
	inst := &instance{
		url:      "http://" + addr,
		readyURL: "http://" + addr + readyPath,
		pid:      cmd.Process.Pid,
		log:      logPath,
	}
	var once sync.Once
	var stopErr error
	inst.stop = func() error {
		once.Do(func() {
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				stopErr = err
				return
			}
			select {
			case err := <-exited:
				if err != nil {
					stopErr = fmt.Errorf("%s exited: %v (log %s)", name, err, logPath)
				}
			case <-time.After(5 * time.Minute):
				cmd.Process.Kill()
				<-exited
				stopErr = fmt.Errorf("%s did not stop within 5 minutes of SIGTERM; killed (log %s)", name, logPath)
			}
		})
		return stopErr
	}
	if err := waitReady(inst.readyURL, exited); err != nil {
		inst.stop()
		return nil, fmt.Errorf("%s: %w; log:\n%s", name, err, tail(logPath))
	}
	return inst, nil
}

// serveInProcess serves h on addr from the test binary; closeStorage runs
// after the HTTP server has drained.
func serveInProcess(addr string, h http.Handler, closeStorage func() error) (*instance, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	var once sync.Once
	var stopErr error
	return &instance{
		url:      "http://" + addr,
		readyURL: "http://" + addr + "/-/ready",
		pid:      os.Getpid(),
		stop: func() error {
			once.Do(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				stopErr = hs.Shutdown(ctx)
				if err := <-served; !errors.Is(err, http.ErrServerClosed) {
					stopErr = errors.Join(stopErr, err)
				}
				stopErr = errors.Join(stopErr, closeStorage())
			})
			return stopErr
		},
	}, nil
}

// waitReady polls url until it answers 200, the process exits, or a minute
// passes.
func waitReady(url string, exited <-chan error) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited before it was ready: %v", err)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after a minute at %s", url)
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// procStatus reads a "kB" field of /proc/pid/status (VmHWM, VmRSS) in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// procCPU is the user+system CPU time a process has used, all threads.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which may hold spaces: state is
	// field 3 of proc(5), utime 14 and stime 15, in clock ticks (USER_HZ,
	// 100 on Linux for every architecture Go supports here).
	_, rest, ok := bytes.Cut(b, []byte(") "))
	f := strings.Fields(string(rest))
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// dirBytes is the total size of the regular files under dir, and the
// same by kind (file extension, or the name's first part without digits),
// to say where the bytes are.
func dirBytes(dir string) (int64, map[string]int64, error) {
	var n int64
	byKind := map[string]int64{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
			kind := filepath.Ext(d.Name())
			if kind == "" {
				kind = strings.TrimRight(strings.SplitN(d.Name(), "-", 2)[0], "0123456789")
			}
			rel, _ := filepath.Rel(dir, filepath.Dir(path))
			if top, _, _ := strings.Cut(rel, string(filepath.Separator)); top != "." {
				kind = top + "/…" + kind
			}
			byKind[kind] += info.Size()
		}
		return nil
	})
	return n, byKind, err
}

// tail returns the end of a log file.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
