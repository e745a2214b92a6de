package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/server"
)

// This file is `almanac import`: it reads files in the formats other tools
// write and posts them, in chunks cut on line boundaries, to almanac's
// import endpoints (server/import.go), then reports what the server
// stored and refused. With --data it opens a data directory itself and
// runs the same endpoints in process, without a network: the dependency
// policy keeps cmd/almanac away from the ingest decoders, and going
// through the server's handlers makes both modes parse, store and answer
// alike.

const (
	// defaultChunkBytes bounds a request body: half the server's limit of
	// 32 MiB, so a chunk and its decoded samples fit comfortably.
	defaultChunkBytes = 16 << 20
	// maxLineBytes bounds one line, which must fit one request.
	maxLineBytes = 64 << 20
)

// importConfig is what the import flags say.
type importConfig struct {
	URL        string
	Data       string
	Format     string
	CSVFormat  string
	Precision  string
	InfluxDB   string
	Retention  time.Duration
	OOOWindow  time.Duration
	MaxFuture  time.Duration
	ChunkBytes int
	Files      []string
}

// importFormat is how one import format reaches the server.
type importFormat struct {
	name        string
	path        string
	contentType string
}

// openMetricsContentType is the Content-Type of an OpenMetrics body.
const openMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

// importFormats are the formats of --format, but auto.
var importFormats = []importFormat{
	{"prometheus", "/api/v1/import/prometheus", "text/plain; version=0.0.4; charset=utf-8"},
	{"openmetrics", "/api/v1/import/prometheus", openMetricsContentType},
	{"influx", "/write", "text/plain; charset=utf-8"},
	{"jsonl", "/api/v1/import", "application/json"},
	{"csv", "/api/v1/import/csv", "text/csv; charset=utf-8"},
}

func formatNamed(name string) (importFormat, bool) {
	i := slices.IndexFunc(importFormats, func(f importFormat) bool { return f.name == name })
	if i < 0 {
		return importFormat{}, false
	}
	return importFormats[i], true
}

// guessFormat names the format of a file from its extension, a .gz
// suffix aside.
func guessFormat(file string) (string, error) {
	ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(strings.ToLower(file), ".gz")))
	switch ext {
	case ".prom", ".txt":
		return "prometheus", nil
	case ".om":
		return "openmetrics", nil
	case ".jsonl", ".json", ".ndjson":
		return "jsonl", nil
	case ".csv":
		return "csv", nil
	case ".lp", ".influx", ".line":
		return "influx", nil
	}
	return "", fmt.Errorf("cannot guess the format of %s from its extension: give --format", file)
}

// parseImportFlags reads the import flags, which may come before or after
// the files, and, for each flag not on the command line, its ALMANAC_*
// environment variable. It returns the files' formats, resolved.
func parseImportFlags(args []string, getenv func(string) string, stderr io.Writer) (importConfig, []importFormat, error) {
	cfg := importConfig{
		URL:        defaultURL,
		Format:     "auto",
		Retention:  30 * 24 * time.Hour,
		OOOWindow:  time.Hour,
		MaxFuture:  time.Hour,
		ChunkBytes: defaultChunkBytes,
	}
	fs := flag.NewFlagSet("almanac import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", cfg.URL, "almanac's address")
	fs.StringVar(&cfg.Data, "data", "", "import into this data directory directly, without a server (instead of --url); the directory must not be in use")
	fs.StringVar(&cfg.Format, "format", cfg.Format, "auto (from the file extension), prometheus (text format or OpenMetrics), openmetrics, influx, jsonl or csv")
	fs.StringVar(&cfg.CSVFormat, "csv-format", "", "CSV columns, as VictoriaMetrics's format parameter: e.g. 1:label:host,2:metric:cpu,3:time:unix_s")
	fs.StringVar(&cfg.Precision, "influx-precision", "", "unit of InfluxDB line timestamps: ns (default), us, ms, s, m or h")
	fs.StringVar(&cfg.InfluxDB, "influx-db", "", "InfluxDB database, stored as label db unless a line has a db tag")
	fs.Var((*durationFlag)(&cfg.Retention), "retention", "with --data: samples older than this are refused; negative keeps everything (as serve)")
	fs.Var((*durationFlag)(&cfg.OOOWindow), "ooo-window", "with --data: how far behind its series' newest sample a sample may arrive; negative: any age (as serve)")
	fs.Var((*durationFlag)(&cfg.MaxFuture), "max-future", "with --data: samples further ahead of the clock are refused (as serve)")
	fs.IntVar(&cfg.ChunkBytes, "chunk-bytes", cfg.ChunkBytes, "largest request body; files are sent in chunks of whole lines")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: almanac import [flags] FILE...

Imports files (- for stdin; .gz files are decompressed) into a running
almanac (--url) or, with --data, into a data directory without a server.
Every flag can also be set by an environment variable, e.g. ALMANAC_URL.

flags:
`)
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Files = files
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		if v := getenv(env); v != "" && !onCommandLine[f.Name] {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("environment variable %s=%q: %w", env, v, err))
			}
		}
	})
	if len(errs) > 0 {
		return cfg, nil, errors.Join(errs...)
	}

	switch {
	case onCommandLine["url"] && onCommandLine["data"]:
		return cfg, nil, errors.New("give --url or --data, not both")
	case onCommandLine["url"]:
		cfg.Data = ""
	case onCommandLine["data"]:
	case cfg.Data != "" && getenv(envName("url")) != "":
		return cfg, nil, errors.New("ALMANAC_URL and ALMANAC_DATA are both set: give --url or --data")
	}
	if onCommandLine["data"] && cfg.Data == "" {
		return cfg, nil, errors.New("--data must not be empty")
	}
	if cfg.Data == "" {
		for _, name := range []string{"retention", "ooo-window", "max-future"} {
			if onCommandLine[name] {
				return cfg, nil, fmt.Errorf("--%s applies only with --data; the server has its own", name)
			}
		}
	}
	if cfg.ChunkBytes <= 0 {
		return cfg, nil, errors.New("--chunk-bytes must be positive")
	}
	if len(cfg.Files) == 0 {
		return cfg, nil, errors.New("no file given (use - for stdin)")
	}
	if _, ok := formatNamed(cfg.Format); !ok && cfg.Format != "auto" {
		return cfg, nil, fmt.Errorf("unknown --format %q: use auto, prometheus, openmetrics, influx, jsonl or csv", cfg.Format)
	}
	formats := make([]importFormat, len(cfg.Files))
	for i, file := range cfg.Files {
		name := cfg.Format
		if name == "auto" {
			if file == "-" {
				return cfg, nil, errors.New("--format auto cannot guess the format of stdin: give --format")
			}
			if name, err = guessFormat(file); err != nil {
				return cfg, nil, err
			}
		}
		formats[i], _ = formatNamed(name)
		if name == "csv" && cfg.CSVFormat == "" {
			if file == "-" {
				file = "stdin"
			}
			return cfg, nil, fmt.Errorf("%s is CSV: give its columns with --csv-format, e.g. 1:label:host,2:metric:cpu,3:time:unix_s", file)
		}
	}
	return cfg, formats, nil
}

// runImport runs `almanac import` and returns the exit code: 0 when
// everything was stored, 1 when any line or sample was refused or the
// import failed, 2 for a usage error.
func runImport(ctx context.Context, args []string, getenv func(string) string, now time.Time, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	cfg, formats, err := parseImportFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return usageError(stderr, "import", err)
	}
	im := &importer{cfg: cfg, now: now, stdout: stdout, stderr: stderr}
	if cfg.Data != "" {
		db, err := almanac.Open(cfg.Data, &almanac.Options{
			Retention:        cfg.Retention,
			OutOfOrderWindow: cfg.OOOWindow,
			MaxFutureSkew:    cfg.MaxFuture,
			// Close checkpoints with an fsync: the import is on disk once
			// it returns, and a crash before that is undone by running it
			// again (samples already stored are dropped as duplicates).
			NoSync: true,
			Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			fmt.Fprintf(stderr, "almanac import: opening %s: %v (is a server running on it? then use --url)\n", cfg.Data, err)
			return 1
		}
		defer func() {
			if err := db.Close(); err != nil {
				fmt.Fprintf(stderr, "almanac import: closing %s: %v\n", cfg.Data, err)
				code = 1
			}
		}()
		im.base = &url.URL{Scheme: "http", Host: "almanac"}
		im.client = &http.Client{Transport: handlerTransport{server.New(db, server.Config{})}}
	} else {
		u, err := url.Parse(cfg.URL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return usageError(stderr, "import", fmt.Errorf("invalid --url %q: want http://host:port", cfg.URL))
		}
		im.base, im.client = u, http.DefaultClient
	}
	code = 0
	for i, file := range cfg.Files {
		res, err := im.importFile(ctx, file, formats[i], stdin)
		fmt.Fprintln(stdout, res.summary(err != nil))
		if err != nil {
			fmt.Fprintf(stderr, "almanac import: %s: %v\n", res.name, err)
			return 1
		}
		if !res.ok() {
			code = 1
		}
	}
	return code
}

// importer posts files to one server.
type importer struct {
	cfg            importConfig
	base           *url.URL
	client         *http.Client
	now            time.Time // the timestamp of Prometheus samples without one
	stdout, stderr io.Writer
}

// fileResult is what became of one file.
type fileResult struct {
	name    string
	lines   int            // lines read
	sent    int            // lines the server answered for
	invalid int            // lines not stored
	refused int            // samples of valid lines storage refused
	ignored map[string]int // values not stored, by kind (X-Almanac-Ignored)
}

func (r fileResult) ok() bool { return r.invalid == 0 && r.refused == 0 && r.lines == r.sent }

// summary is the line printed for a file; stopped says the import of
// the file stopped before its end.
func (r fileResult) summary(stopped bool) string {
	var b strings.Builder
	if stopped {
		fmt.Fprintf(&b, "%s: stopped after %d lines, %d imported", r.name, r.sent, r.sent-r.invalid)
	} else if r.invalid == 0 {
		fmt.Fprintf(&b, "%s: %d lines imported", r.name, r.lines)
	} else {
		fmt.Fprintf(&b, "%s: %d lines, %d imported", r.name, r.lines, r.lines-r.invalid)
	}
	if r.invalid > 0 {
		fmt.Fprintf(&b, ", %d invalid (not stored)", r.invalid)
	}
	if r.refused > 0 {
		fmt.Fprintf(&b, ", %d samples refused by storage", r.refused)
	}
	if len(r.ignored) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.ignored)) {
			parts = append(parts, fmt.Sprintf("%d %s", r.ignored[k], k))
		}
		fmt.Fprintf(&b, " (not stored: %s)", strings.Join(parts, ", "))
	}
	return b.String()
}

// importFile posts one file. Refused lines and samples are reported on
// stderr as they come and counted in the result; an error means the
// import cannot go on (the file cannot be read, the server is unreachable
// or refuses every request).
func (im *importer) importFile(ctx context.Context, file string, format importFormat, stdin io.Reader) (fileResult, error) {
	res := fileResult{name: file}
	var in io.Reader = stdin
	if file == "-" {
		res.name = "stdin"
	} else {
		f, err := os.Open(file)
		if err != nil {
			return res, err
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReaderSize(in, 64<<10)
	gzipped := false
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return res, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		br, gzipped = bufio.NewReaderSize(zr, 64<<10), true
	}

	prom := format.name == "prometheus" || format.name == "openmetrics"
	om := format.name == "openmetrics"
	if format.name == "prometheus" && !gzipped {
		if f, ok := in.(*os.File); ok {
			om = endsWithEOF(f)
		}
	}
	params := url.Values{}
	switch format.name {
	case "prometheus", "openmetrics":
		params.Set("timestamp", strconv.FormatInt(im.now.UnixMilli(), 10))
	case "influx":
		if im.cfg.Precision != "" {
			params.Set("precision", im.cfg.Precision)
		}
		if im.cfg.InfluxDB != "" {
			params.Set("db", im.cfg.InfluxDB)
		}
	case "csv":
		params.Set("format", im.cfg.CSVFormat)
	}

	c := &chunker{r: br, maxBytes: im.cfg.ChunkBytes, keepComments: prom}
	for n := 0; ; n++ {
		ch, err := c.next()
		res.lines = c.read
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		if format.name == "prometheus" && n == 0 && ch.hasEOF {
			om = true // an OpenMetrics file, by its "# EOF"
		}
		body := ch.data
		if om && !ch.last && !ch.hasEOF {
			body = append(body, "# EOF\n"...) // each request is a whole document
		}
		contentType := format.contentType
		if om {
			contentType = openMetricsContentType
		}
		if err := im.post(ctx, format.path, params, contentType, body, ch, &res); err != nil {
			return res, fmt.Errorf("%s: %w", ch.span(), err)
		}
		res.sent += ch.lines
	}
}

// endsWithEOF reports whether f is a regular file whose last line is
// OpenMetrics's "# EOF", so that a large OpenMetrics file is known as one
// before its first chunk is sent.
func endsWithEOF(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return false
	}
	n := min(fi.Size(), 256)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, fi.Size()-n); err != nil {
		return false
	}
	buf = bytes.TrimRight(buf, "\r\n \t")
	return bytes.Equal(buf, []byte("# EOF")) || bytes.HasSuffix(buf, []byte("\n# EOF"))
}

// Answers of the import endpoints (server/import.go) to a request with
// refused lines or samples.
var (
	invalidLinesAnswer = regexp.MustCompile(`^(\d+) invalid lines not stored`)
	refusedAnswer      = regexp.MustCompile(`(?m)^\d+ samples stored, (\d+) samples refused`)
	answerLineNumber   = regexp.MustCompile(`(: |; )line (\d+)\b`)
)

// post sends one chunk and reads the answer into res. Refused lines and
// samples are reported, not returned: the other chunks are still worth
// sending. The error is for answers that would refuse any chunk.
func (im *importer) post(ctx context.Context, path string, params url.Values, contentType string, body []byte, ch chunk, res *fileResult) error {
	u := im.base.JoinPath(path)
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "almanac-cli/"+version())
	resp, err := im.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	msg := strings.TrimSpace(string(answer))
	if ig := resp.Header.Get("X-Almanac-Ignored"); ig != "" {
		for part := range strings.SplitSeq(ig, ", ") {
			n, what, ok := strings.Cut(part, " ")
			if count, err := strconv.Atoi(n); ok && err == nil {
				if res.ignored == nil {
					res.ignored = map[string]int{}
				}
				res.ignored[what] += count
			}
		}
	}
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		res.invalid += ch.lines
		fmt.Fprintf(im.stderr, "almanac import: %s: %s not stored: the server refused the request as too large (%s): %s; use a smaller --chunk-bytes\n",
			res.name, ch.span(), resp.Status, msg)
		return nil
	case resp.StatusCode == http.StatusBadRequest:
		m := invalidLinesAnswer.FindStringSubmatch(msg)
		r := refusedAnswer.FindStringSubmatch(msg)
		if m == nil && r == nil {
			break // a bad parameter: every chunk would get it
		}
		if m != nil {
			n, _ := strconv.Atoi(m[1])
			res.invalid += n
			first, _, _ := strings.Cut(msg, "\n")
			msg = renumberLines(first, ch) + msg[len(first):]
		}
		if r != nil {
			n, _ := strconv.Atoi(r[1])
			res.refused += n
		}
		fmt.Fprintf(im.stderr, "almanac import: %s: %s\n", res.name, msg)
		return nil
	}
	if msg == "" {
		return fmt.Errorf("the server answered %s", resp.Status)
	}
	return fmt.Errorf("the server answered %s: %s", resp.Status, msg)
}

// renumberLines turns the line numbers of an answer, which count from the
// start of the chunk, into line numbers of the file. Line 0, a problem of
// the request as a whole, becomes the chunk's span.
func renumberLines(msg string, ch chunk) string {
	return answerLineNumber.ReplaceAllStringFunc(msg, func(s string) string {
		m := answerLineNumber.FindStringSubmatch(s)
		n, err := strconv.Atoi(m[2])
		if err != nil {
			return s
		}
		if n == 0 {
			return m[1] + ch.span()
		}
		return m[1] + "line " + strconv.Itoa(ch.first+n-1)
	})
}

// chunk is one request body: whole lines of the file.
type chunk struct {
	data   []byte // valid until the next call to chunker.next
	first  int    // line number in the file of data's first line
	lines  int
	last   bool // no data follows
	hasEOF bool // data has an OpenMetrics "# EOF" line
}

// span names the lines of a chunk.
func (ch chunk) span() string {
	if ch.lines == 1 {
		return "line " + strconv.Itoa(ch.first)
	}
	return fmt.Sprintf("lines %d-%d", ch.first, ch.first+ch.lines-1)
}

// chunker cuts a text stream into chunks of at most maxBytes, on line
// boundaries; a longer line is a chunk of its own. Every line of a chunk
// ends with a newline, the last line of the stream included.
type chunker struct {
	r        *bufio.Reader
	maxBytes int
	// keepComments, for the Prometheus formats, keeps comment lines (HELP,
	// TYPE) with the samples after them: a chunk does not end with them.
	keepComments bool

	buf     []byte // the next chunk, being filled
	out     []byte // the chunk returned last
	first   int    // line number of buf's first line
	lines   int    // lines in buf
	tail    int    // offset in buf of its trailing comment lines; len(buf) if none
	line    []byte // a line read but not yet in buf
	pending bool   // line holds a line
	read    int    // lines read
	eof     bool
}

// next returns the next chunk, or io.EOF after the last.
func (c *chunker) next() (chunk, error) {
	if c.first == 0 {
		c.first = 1
	}
	for {
		if !c.pending && !c.eof {
			if err := c.readLine(); err != nil {
				return chunk{}, err
			}
		}
		if !c.pending {
			if c.lines == 0 {
				return chunk{}, io.EOF
			}
			return c.cut(len(c.buf), true), nil
		}
		if len(c.buf) > 0 && len(c.buf)+len(c.line) > c.maxBytes {
			at := len(c.buf)
			if c.tail > 0 && c.tail < len(c.buf) {
				at = c.tail // the comments go with the samples they describe
			}
			return c.cut(at, false), nil
		}
		if !c.keepComments || len(c.line) == 0 || c.line[0] != '#' {
			c.tail = len(c.buf) + len(c.line)
		}
		c.buf = append(c.buf, c.line...)
		c.lines++
		c.pending = false
	}
}

// readLine reads the next line into c.line, with its newline (added if
// the stream's last line has none).
func (c *chunker) readLine() error {
	c.line = c.line[:0]
	for {
		frag, err := c.r.ReadSlice('\n')
		c.line = append(c.line, frag...)
		if len(c.line) > maxLineBytes {
			return fmt.Errorf("line %d is longer than %d MiB", c.read+1, maxLineBytes>>20)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			c.eof = true
			if len(c.line) == 0 {
				return nil
			}
			if c.line[len(c.line)-1] != '\n' {
				c.line = append(c.line, '\n')
			}
		case err != nil:
			return fmt.Errorf("reading line %d: %w", c.read+1, err)
		}
		c.read++
		c.pending = true
		return nil
	}
}

// cut returns buf[:at] as a chunk and keeps buf[at:] (comment lines) for
// the next one.
func (c *chunker) cut(at int, last bool) chunk {
	kept := bytes.Count(c.buf[at:], []byte{'\n'})
	c.out, c.buf = c.buf, c.out[:0]
	c.buf = append(c.buf, c.out[at:]...)
	c.out = c.out[:at]
	ch := chunk{data: c.out, first: c.first, lines: c.lines - kept, last: last, hasEOF: hasEOFLine(c.out)}
	c.first += ch.lines
	c.lines = kept
	c.tail = 0
	return ch
}

// hasEOFLine reports whether data has OpenMetrics's "# EOF" line.
func hasEOFLine(data []byte) bool {
	for _, eof := range []string{"# EOF\n", "# EOF\r\n"} {
		if bytes.HasPrefix(data, []byte(eof)) || bytes.Contains(data, []byte("\n"+eof)) {
			return true
		}
	}
	return false
}

// handlerTransport serves HTTP requests with an in-process handler: the
// server of `almanac import --data`.
type handlerTransport struct{ h http.Handler }

// RoundTrip serves req and returns the answer, all in memory.
func (t handlerTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	rec := &responseRecorder{header: http.Header{}}
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, fmt.Errorf("import failed: %v", p)
		}
	}()
	t.h.ServeHTTP(rec, req)
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", rec.code, http.StatusText(rec.code)),
		StatusCode:    rec.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(&rec.body),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}

// responseRecorder is the http.ResponseWriter of handlerTransport.
type responseRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *responseRecorder) Header() http.Header { return r.header }

func (r *responseRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *responseRecorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
