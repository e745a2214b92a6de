package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/golang/snappy"
)

// render prints a decoded import readable: one line per sample, then the
// invalid lines, then what was ignored.
func render(req *Request) string {
	var b strings.Builder
	for _, s := range req.Series {
		for _, smp := range s.Samples {
			fmt.Fprintf(&b, "%s %d %v\n", s.Labels, smp.T, smp.V)
		}
	}
	for _, e := range req.Invalid {
		fmt.Fprintf(&b, "! %v\n", e)
	}
	for _, k := range slices.Sorted(maps.Keys(req.Ignored)) {
		fmt.Fprintf(&b, "ignored %d %s\n", req.Ignored[k], k)
	}
	return b.String()
}

// checkImport verifies what an import decoder returned for any input.
func checkImport(t *testing.T, req *Request) {
	t.Helper()
	checkRequest(t, req)
	if len(req.Invalid) > MaxListedLines || req.InvalidLines < len(req.Invalid) {
		t.Fatalf("%d invalid lines listed of %d", len(req.Invalid), req.InvalidLines)
	}
	for _, e := range req.Invalid {
		if !errors.Is(e, ErrInvalidLine) {
			t.Fatalf("%v does not match ErrInvalidLine", e)
		}
	}
}

func TestLines(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		var got []string
		for n, l := range lines([]byte(in)) {
			got = append(got, fmt.Sprintf("%d:%s", n, l))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("lines(%q) = %q, want %q", in, got, want)
		}
	}
	f("")
	f("a", "1:a")
	f("a\n", "1:a")
	f("a\r\nb", "1:a", "2:b")
	f("\n\nc\n", "1:", "2:", "3:c")
	next, stop := iter.Pull2(lines([]byte("a\nb\nc")))
	defer stop()
	if n, l, ok := next(); !ok || n != 1 || string(l) != "a" {
		t.Fatalf("first line %d %q %v", n, l, ok)
	}
}

func TestReadBody(t *testing.T) {
	const body = "up 1\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat(body, 100)))
	zw.Close()
	f := func(name string, in []byte, enc string, limit int, want string, wantErr error) {
		t.Run(name, func(t *testing.T) {
			got, err := ReadBody(bytes.NewReader(in), enc, limit)
			if wantErr != nil {
				if !errors.Is(err, wantErr) {
					t.Fatalf("err %v, want %v", err, wantErr)
				}
				return
			}
			if err != nil || string(got) != want {
				t.Fatalf("got %q, %v; want %q", got, err, want)
			}
		})
	}
	f("plain", []byte(body), "", 0, body, nil)
	f("identity", []byte(body), "identity", 0, body, nil)
	f("plain at limit", []byte(body), "", len(body), body, nil)
	f("plain over limit", []byte(body), "", len(body)-1, "", ErrTooLarge)
	f("gzip", gz.Bytes(), "gzip", 0, strings.Repeat(body, 100), nil)
	f("x-gzip", gz.Bytes(), "X-Gzip", 0, strings.Repeat(body, 100), nil)
	f("gzip over limit", gz.Bytes(), "gzip", 100, "", ErrTooLarge)
	f("gzip truncated", gz.Bytes()[:gz.Len()-10], "gzip", 0, "", ErrCompression)
	f("gzip garbage", []byte("not gzip at all"), "gzip", 0, "", ErrCompression)
	f("gzip empty", nil, "gzip", 0, "", ErrCompression)
	f("snappy", snappy.Encode(nil, []byte(body)), "snappy", 0, body, nil)
	f("snappy garbage", []byte{0xff}, "snappy", 0, "", ErrCompression)
	f("zstd", []byte(body), "zstd", 0, "", ErrUnsupportedMediaType)
}
