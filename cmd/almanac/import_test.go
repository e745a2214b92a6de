package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/server"
)

// importTarget is where a test imports: a server on a real database
// (--url), or a data directory the command opens itself (--data).
type importTarget struct {
	name string
	args []string           // --url URL, or --data DIR and its options
	db   func() *almanac.DB // the database, open, once the import is done
}

// importModes builds a target of each mode.
var importModes = []struct {
	name string
	new  func(t *testing.T) *importTarget
}{
	{"url", func(t *testing.T) *importTarget { return newURLTarget(t, server.Config{}) }},
	{"data", newDataTarget},
}

func newURLTarget(t *testing.T, cfg server.Config) *importTarget {
	t.Helper()
	db, err := almanac.Open(t.TempDir(), &almanac.Options{NoSync: true, Retention: -1, OutOfOrderWindow: -1})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(server.New(db, cfg))
	t.Cleanup(func() {
		hs.Close()
		http.DefaultClient.CloseIdleConnections()
		if err := db.Close(); err != nil {
			t.Errorf("closing db: %v", err)
		}
	})
	return &importTarget{name: "url", args: []string{"--url", hs.URL}, db: func() *almanac.DB { return db }}
}

func newDataTarget(t *testing.T) *importTarget {
	dir := filepath.Join(t.TempDir(), "data") // created by the import
	var db *almanac.DB
	return &importTarget{
		name: "data",
		args: []string{"--data", dir, "--retention=-1d", "--ooo-window=-1s"},
		db: func() *almanac.DB {
			if db == nil {
				var err error
				if db, err = almanac.Open(dir, &almanac.Options{Retention: -1, OutOfOrderWindow: -1}); err != nil {
					t.Fatalf("opening the imported data directory: %v", err)
				}
				t.Cleanup(func() {
					if err := db.Close(); err != nil {
						t.Errorf("closing db: %v", err)
					}
				})
			}
			return db
		},
	}
}

// dump prints every series a database holds, one a line in label order:
// labels, then t=v for each sample (t relative to cliBase, in ms).
func dump(t *testing.T, db *almanac.DB) string {
	t.Helper()
	ss, err := db.Querier(math.MinInt64, math.MaxInt64).Select(t.Context(), labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".*"))
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	var b strings.Builder
	for ss.Next() {
		s := ss.At()
		b.WriteString(s.Labels.String())
		for i, ts := range s.T {
			fmt.Fprintf(&b, " %d=%s", ts-cliBase, strconv.FormatFloat(s.V[i], 'g', -1, 64))
		}
		b.WriteString("\n")
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// runImportCmd runs `almanac import` with stdin and environment
// variables, at cliNow.
func runImportCmd(t *testing.T, stdin []byte, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runImport(t.Context(), args, func(k string) string { return env[k] }, cliNow, bytes.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// writeFile writes a file in dir, gzip-compressed if its name ends in .gz.
func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	b := []byte(data)
	if strings.HasSuffix(name, ".gz") {
		b = gzipBytes(t, data)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipBytes(t *testing.T, data string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(data))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const promText = `# HELP up Whether the target is up.
# TYPE up gauge
up{job="node",instance="a"} 1 1735689600000
up{job="node",instance="a"} 0 1735689615000

# TYPE temp gauge
temp{room="a,b"} +Inf 1735689600000
lonely 7
`

func TestImportFormats(t *testing.T) {
	dir := t.TempDir()
	upAndTemp := `{__name__="lonely"} 120000=7` + "\n" +
		`{__name__="temp", room="a,b"} 0=+Inf` + "\n" +
		`{__name__="up", instance="a", job="node"} 0=1 15000=0` + "\n"
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		want   string // dump
		stdout string
	}{
		{"prometheus", "", []string{writeFile(t, dir, "m.prom", promText)}, upAndTemp, "m.prom: 8 lines imported"},
		{"prometheus gzip", "", []string{writeFile(t, dir, "m.prom.gz", promText)}, upAndTemp, "m.prom.gz: 8 lines imported"},
		{"openmetrics", "", []string{writeFile(t, dir, "m.om", "# TYPE up gauge\nup{job=\"node\",instance=\"a\"} 1 1735689600\nup{job=\"node\",instance=\"a\"} 0 1735689615.5\n# EOF\n")},
			`{__name__="up", instance="a", job="node"} 0=1 15500=0` + "\n", "m.om: 4 lines imported"},
		{"openmetrics by its EOF", "", []string{"--format", "prometheus", writeFile(t, dir, "om.txt", "up{job=\"node\"} 1 1735689600.25\n# EOF")},
			`{__name__="up", job="node"} 250=1` + "\n", "om.txt: 2 lines imported"},
		{"influx", "", []string{writeFile(t, dir, "m.lp", "cpu,host=a usage_user=12.5,usage_idle=80i 1735689600000000000\n# comment\ntemp,room=k value=21.5 1735689615000000000\n")},
			`{__name__="cpu_usage_idle", host="a"} 0=80` + "\n" + `{__name__="cpu_usage_user", host="a"} 0=12.5` + "\n" + `{__name__="temp", room="k"} 15000=21.5` + "\n",
			"m.lp: 3 lines imported"},
		{"influx stdin, precision and db", "cpu,host=a usage=1 1735689630\nlog,host=a msg=\"hi\",n=2 1735689630\n",
			[]string{"--format", "influx", "--influx-precision", "s", "--influx-db", "telegraf", "-"},
			`{__name__="cpu_usage", db="telegraf", host="a"} 30000=1` + "\n" + `{__name__="log_n", db="telegraf", host="a"} 30000=2` + "\n",
			"stdin: 2 lines imported (not stored: 1 string fields)"},
		{"jsonl", "", []string{writeFile(t, dir, "m.jsonl", `{"metric":{"__name__":"up","job":"node"},"values":[1,"Infinity",-0.5],"timestamps":[1735689600000,1735689615000,1735689630000]}`+"\n"+
			`{"metric":{"__name__":"x","path":"/a\"b"},"values":[1e-7],"timestamps":[1735689600000]}`)},
			`{__name__="up", job="node"} 0=1 15000=+Inf 30000=-0.5` + "\n" + `{__name__="x", path="/a\"b"} 0=1e-07` + "\n", "m.jsonl: 2 lines imported"},
		{"jsonl gzip on stdin", string(gzipBytes(t, `{"metric":{"__name__":"up"},"values":[3],"timestamps":[1735689600000]}`)), []string{"--format", "jsonl", "-"},
			`{__name__="up"} 0=3` + "\n", "stdin: 1 lines imported"},
		{"csv", "", []string{"--csv-format", "1:label:ticker,2:metric:ask,3:metric:bid,4:time:unix_s", writeFile(t, dir, "q.csv", "GOOG,1.23,4.56,1735689600\n\"MS,FT\",3.21,,1735689615\n")},
			`{__name__="ask", ticker="GOOG"} 0=1.23` + "\n" + `{__name__="ask", ticker="MS,FT"} 15000=3.21` + "\n" + `{__name__="bid", ticker="GOOG"} 0=4.56` + "\n",
			"q.csv: 2 lines imported"},
		{"several files", "", []string{writeFile(t, dir, "a.prom", "a 1 1735689600000\n"), writeFile(t, dir, "b.jsonl", `{"metric":{"__name__":"b"},"values":[2],"timestamps":[1735689600000]}`+"\n")},
			`{__name__="a"} 0=1` + "\n" + `{__name__="b"} 0=2` + "\n", "a.prom: 1 lines imported\nb.jsonl: 1 lines imported"},
		{"empty file", "", []string{writeFile(t, dir, "empty.prom", "")}, "", "empty.prom: 0 lines imported"},
	} {
		for _, mode := range importModes {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				target := mode.new(t)
				code, stdout, stderr := runImportCmd(t, []byte(tc.stdin), nil, append(target.args, tc.args...)...)
				if code != 0 || stderr != "" {
					t.Fatalf("exit %d, stderr %q, stdout %q", code, stderr, stdout)
				}
				if want := tc.stdout + "\n"; strings.ReplaceAll(stdout, dir+"/", "") != want {
					t.Errorf("stdout %q, want %q", stdout, want)
				}
				if got := dump(t, target.db()); got != tc.want {
					t.Fatalf("stored:\n%s\nwant:\n%s", got, tc.want)
				}
			})
		}
	}
}

// TestImportChunks sends files in many small chunks: every sample is
// stored, comment lines stay with their samples, OpenMetrics chunks are
// whole documents, and the line numbers of errors count from the top of
// the file.
func TestImportChunks(t *testing.T) {
	dir := t.TempDir()
	var prom, om, jsonl strings.Builder
	var want strings.Builder
	for i := range 40 {
		fmt.Fprintf(&prom, "# HELP m%02d Metric %d.\n# TYPE m%02d counter\n", i, i, i)
		fmt.Fprintf(&om, "# HELP m%02d Metric %d.\n# TYPE m%02d counter\n", i, i, i)
		fmt.Fprintf(&want, `{__name__="m%02d_total", i="%d"}`, i, i)
		for j := range 3 {
			fmt.Fprintf(&prom, "m%02d_total{i=\"%d\"} %d %d\n", i, i, j, cliBase+int64(j)*1000)
			fmt.Fprintf(&om, "m%02d_total{i=\"%d\"} %d %d.%03d\n", i, i, j, cliBase/1000+int64(j), 0)
			fmt.Fprintf(&jsonl, `{"metric":{"__name__":"m%02d_total","i":"%d"},"values":[%d],"timestamps":[%d]}`+"\n", i, i, j, cliBase+int64(j)*1000)
			fmt.Fprintf(&want, " %d=%d", j*1000, j)
		}
		want.WriteString("\n")
	}
	om.WriteString("# EOF\n")
	bigOM := strings.ReplaceAll(om.String(), ".000", "") // a .txt: known as OpenMetrics by its last line
	for _, tc := range []struct {
		name, file, data string
	}{
		{"prometheus", "m.prom", prom.String()},
		{"openmetrics", "m.om", om.String()},
		{"openmetrics by its end", "m.txt", bigOM},
		{"jsonl", "m.jsonl", jsonl.String()},
	} {
		for _, mode := range importModes {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				target := mode.new(t)
				path := writeFile(t, dir, tc.file, tc.data)
				code, stdout, stderr := runImportCmd(t, nil, nil, append(target.args, "--chunk-bytes", "300", path)...)
				lines := strings.Count(tc.data, "\n")
				if code != 0 || stderr != "" || stdout != fmt.Sprintf("%s: %d lines imported\n", path, lines) {
					t.Fatalf("exit %d, stderr %q, stdout %q", code, stderr, stdout)
				}
				if got := dump(t, target.db()); got != want.String() {
					t.Fatalf("stored:\n%s\nwant:\n%s", got, want.String())
				}
			})
		}
	}
}

func TestImportBadLines(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "m{i=\"%d\"} %d %d\n", i, i, cliBase)
	}
	lines := strings.Split(b.String(), "\n")
	lines[4] = `m{i="4"} four 1735689600000` // line 5
	lines[21] = `m{i="21" 21 1735689600000`  // line 22, in a later chunk
	prom := strings.Join(lines, "\n")
	for _, mode := range importModes {
		t.Run(mode.name, func(t *testing.T) {
			target := mode.new(t)
			path := writeFile(t, dir, "bad.prom", prom)
			code, stdout, stderr := runImportCmd(t, nil, nil, append(target.args, "--chunk-bytes", "200", path)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", code, stderr)
			}
			for _, want := range []string{
				"almanac import: " + path + ": 1 invalid lines not stored: line 5: ",
				"almanac import: " + path + ": 1 invalid lines not stored: line 22: ",
			} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, stderr)
				}
			}
			if want := path + ": 30 lines, 28 imported, 2 invalid (not stored)\n"; stdout != want {
				t.Errorf("stdout %q, want %q", stdout, want)
			}
			if n := strings.Count(dump(t, target.db()), "\n"); n != 28 {
				t.Fatalf("%d series stored, want 28", n)
			}
		})
	}

	t.Run("csv column and jsonl", func(t *testing.T) {
		target := newURLTarget(t, server.Config{})
		csvFile := writeFile(t, dir, "bad.csv", "a,1,1735689600\nb,x,1735689600\n")
		jsonFile := writeFile(t, dir, "bad.jsonl", `{"metric":{"__name__":"up"},"values":[1],"timestamps":[1735689600000]}`+"\n"+`{"metric":{"__name__":"up"},"values":[1,2],"timestamps":[1735689600000]}`+"\n")
		code, stdout, stderr := runImportCmd(t, nil, nil, append(target.args, "--csv-format", "1:label:k,2:metric:v,3:time:unix_s", csvFile, jsonFile)...)
		if code != 1 || !strings.Contains(stderr, "bad.csv: 1 invalid lines not stored: line 2, column 2: ") ||
			!strings.Contains(stderr, "bad.jsonl: 1 invalid lines not stored: line 2: 2 values but 1 timestamps") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		if !strings.Contains(stdout, "bad.csv: 2 lines, 1 imported, 1 invalid (not stored)\n") || !strings.Contains(stdout, "bad.jsonl: 2 lines, 1 imported, 1 invalid (not stored)\n") {
			t.Fatalf("stdout %q", stdout)
		}
	})

	t.Run("samples refused by storage", func(t *testing.T) {
		target := newURLTarget(t, server.Config{})
		file := writeFile(t, dir, "dup.jsonl", `{"metric":{"__name__":"up"},"values":[1],"timestamps":[1735689600000]}`+"\n"+`{"metric":{"__name__":"up"},"values":[2],"timestamps":[1735689600000]}`+"\n")
		code, stdout, stderr := runImportCmd(t, nil, nil, append(target.args, file)...)
		if code != 1 || !strings.Contains(stderr, "1 samples refused") || !strings.Contains(stdout, "dup.jsonl: 2 lines imported, 1 samples refused by storage\n") {
			t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
	})

	t.Run("request too large", func(t *testing.T) {
		target := newURLTarget(t, server.Config{MaxWriteBytes: 100})
		file := writeFile(t, dir, "big.prom", "a 1 1735689600000\n"+strings.Repeat("b", 200)+" 1 1735689600000\nc 1 1735689600000\n")
		code, stdout, stderr := runImportCmd(t, nil, nil, append(target.args, "--chunk-bytes", "50", file)...)
		if code != 1 || !strings.Contains(stderr, "big.prom: line 2 not stored: the server refused the request as too large (413 Request Entity Too Large)") ||
			!strings.Contains(stdout, "big.prom: 3 lines, 2 imported, 1 invalid (not stored)\n") {
			t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
		if got, want := dump(t, target.db()), "{__name__=\"a\"} 0=1\n{__name__=\"c\"} 0=1\n"; got != want {
			t.Fatalf("stored:\n%s\nwant:\n%s", got, want)
		}
	})
}

// TestImportRoundTrip exports a database with `almanac export` and
// imports the file into an empty one: the second exports the same.
func TestImportRoundTrip(t *testing.T) {
	src := newCLIServer(t)
	var exported, stderr bytes.Buffer
	if code := runExport(t.Context(), []string{"--url", src, "--match", `{__name__=~".+"}`}, cliNow, &exported, &stderr); code != 0 || exported.Len() == 0 {
		t.Fatalf("export: exit %d, %s", code, stderr.String())
	}
	file := writeFile(t, t.TempDir(), "backup.jsonl.gz", exported.String())
	for _, mode := range importModes {
		t.Run(mode.name, func(t *testing.T) {
			target := mode.new(t)
			code, stdout, stderr := runImportCmd(t, nil, nil, append(target.args, file)...)
			if code != 0 || stderr != "" {
				t.Fatalf("import: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			hs := httptest.NewServer(server.New(target.db(), server.Config{}))
			defer hs.Close()
			var again bytes.Buffer
			if code := runExport(t.Context(), []string{"--url", hs.URL, "--match", `{__name__=~".+"}`}, cliNow, &again, io.Discard); code != 0 {
				t.Fatalf("export again: exit %d", code)
			}
			http.DefaultClient.CloseIdleConnections()
			if again.String() != exported.String() {
				t.Fatalf("after the round trip:\n%s\nbefore:\n%s", again.String(), exported.String())
			}
		})
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	prom := writeFile(t, dir, "m.prom", "up 1 1735689600000\n")
	target := newURLTarget(t, server.Config{})
	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string
	}{
		{"no file", []string{"--url", "http://x"}, nil, 2, "almanac import: no file given (use - for stdin)"},
		{"unknown format", []string{"--format", "parquet", prom}, nil, 2, `unknown --format "parquet"`},
		{"auto on stdin", []string{"-"}, nil, 2, "--format auto cannot guess the format of stdin: give --format"},
		{"unknown extension", []string{filepath.Join(dir, "m.dat")}, nil, 2, "cannot guess the format of " + filepath.Join(dir, "m.dat")},
		{"csv without columns", []string{"--format", "csv", "-"}, nil, 2, "stdin is CSV: give its columns with --csv-format"},
		{"url and data", []string{"--url", "http://x", "--data", dir, prom}, nil, 2, "give --url or --data, not both"},
		{"both in the environment", []string{prom}, map[string]string{"ALMANAC_URL": "http://x", "ALMANAC_DATA": dir}, 2, "ALMANAC_URL and ALMANAC_DATA are both set"},
		{"retention without data", []string{"--retention", "1d", prom}, nil, 2, "--retention applies only with --data"},
		{"bad env", []string{prom}, map[string]string{"ALMANAC_CHUNK_BYTES": "lots"}, 2, `environment variable ALMANAC_CHUNK_BYTES="lots"`},
		{"help", []string{"-h"}, nil, 0, "usage: almanac import [flags] FILE..."},
		{"missing file", []string{"--url", target.args[1], filepath.Join(dir, "nope.prom")}, nil, 1, "no such file or directory"},
		{"connection refused", []string{"--url", "http://127.0.0.1:1", prom}, nil, 1, "almanac import: " + prom + ": line 1: Post"},
		{"bad csv format", []string{"--url", target.args[1], "--format", "csv", "--csv-format", "1:metric", prom}, nil, 1,
			"line 1: the server answered 400 Bad Request: invalid parameter: format entry 1 \"1:metric\""},
		{"bad influx precision", []string{"--url", target.args[1], "--format", "influx", "--influx-precision", "d", prom}, nil, 1, `precision "d"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runImportCmd(t, nil, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}

	t.Run("url from the environment", func(t *testing.T) {
		code, stdout, stderr := runImportCmd(t, nil, map[string]string{"ALMANAC_URL": target.args[1], "ALMANAC_DATA": dir}, "--url", target.args[1], prom)
		if code != 0 || stdout != prom+": 1 lines imported\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		code, stdout, stderr = runImportCmd(t, nil, map[string]string{"ALMANAC_URL": target.args[1]}, prom)
		if code != 0 || stdout != prom+": 1 lines imported\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})

	t.Run("data directory in use", func(t *testing.T) {
		data := filepath.Join(dir, "inuse")
		db, err := almanac.Open(data, &almanac.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		code, _, stderr := runImportCmd(t, nil, nil, "--data", data, prom)
		if code != 1 || !strings.Contains(stderr, "is a server running on it? then use --url") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("dispatch", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"import", "-h"}, func(string) string { return "" }, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "-csv-format") {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
		if code := run([]string{"help"}, func(string) string { return "" }, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "import    load files") {
			t.Fatalf("exit %d, stdout %q", code, stdout.String())
		}
	})
}

func TestChunker(t *testing.T) {
	f := func(in string, maxBytes int, keepComments bool, want ...string) {
		t.Helper()
		c := &chunker{r: bufio.NewReaderSize(strings.NewReader(in), 16), maxBytes: maxBytes, keepComments: keepComments}
		var got []string
		for {
			ch, err := c.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s last=%v eof=%v %q", ch.span(), ch.last, ch.hasEOF, ch.data))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("chunks of %q (%d bytes):\n%s\nwant:\n%s", in, maxBytes, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	f("", 10, false)
	f("a\n", 10, false, `line 1 last=true eof=false "a\n"`)
	f("a", 10, false, `line 1 last=true eof=false "a\n"`)
	f("a\r\nb\r\n", 10, false, `lines 1-2 last=true eof=false "a\r\nb\r\n"`)
	f("aaaa\nbbbb\ncccc\n", 10, false, `lines 1-2 last=false eof=false "aaaa\nbbbb\n"`, `line 3 last=true eof=false "cccc\n"`)
	// A line longer than a chunk goes alone; longer than the reader's buffer too.
	f("a\n"+strings.Repeat("x", 40)+"\nb\n", 10, false,
		`line 1 last=false eof=false "a\n"`, `line 2 last=false eof=false "`+strings.Repeat("x", 40)+`\n"`, `line 3 last=true eof=false "b\n"`)
	// Comment lines go with the samples after them...
	f("# a\nx 1\n# b\ny 1\n", 12, true, `lines 1-2 last=false eof=false "# a\nx 1\n"`, `lines 3-4 last=true eof=false "# b\ny 1\n"`)
	f("# a\nx 1\n# b\ny 1\n", 12, false, `lines 1-3 last=false eof=false "# a\nx 1\n# b\n"`, `line 4 last=true eof=false "y 1\n"`)
	// ... unless there are only comments.
	f("# a\n# b\n# c\nx 1\n", 8, true, `lines 1-2 last=false eof=false "# a\n# b\n"`, `lines 3-4 last=true eof=false "# c\nx 1\n"`)
	f("x 1\n# EOF\n", 100, true, `lines 1-2 last=true eof=true "x 1\n# EOF\n"`)
	f("x 1\n# EOF", 100, true, `lines 1-2 last=true eof=true "x 1\n# EOF\n"`)
}

func TestRenumberLines(t *testing.T) {
	f := func(msg string, first, lines int, want string) {
		t.Helper()
		if got := renumberLines(msg, chunk{first: first, lines: lines}); got != want {
			t.Fatalf("renumberLines(%q, %d)\ngot  %q\nwant %q", msg, first, got, want)
		}
	}
	f("2 invalid lines not stored: line 2, column 5: bad; line 7: worse; 3 samples of the valid lines stored", 101, 10,
		"2 invalid lines not stored: line 102, column 5: bad; line 107: worse; 3 samples of the valid lines stored")
	f("1 invalid lines not stored (no valid line, nothing stored): line 0: parse error", 11, 5,
		"1 invalid lines not stored (no valid line, nothing stored): lines 11-15: parse error")
	f("1 invalid lines not stored: line 3: metric name in line 2", 1, 5, "1 invalid lines not stored: line 3: metric name in line 2")
}
