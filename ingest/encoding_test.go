package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

func gzipOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func snappyFramedOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := snappy.NewBufferedWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdOf(t testing.TB, data []byte, opts ...zstd.EOption) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(data, nil)
}

func TestReadBody(t *testing.T) {
	const body = "up 1\n"
	long := []byte(strings.Repeat(body, 100))
	gz, framed, zs := gzipOf(t, long), snappyFramedOf(t, long), zstdOf(t, long)
	// Bombs: 16 MiB of zeros, a few KiB compressed, against a 1 MiB limit.
	zeros := make([]byte, 16<<20)
	const bombLimit = 1 << 20
	f := func(name string, in []byte, enc string, limit int, want []byte, wantErr error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ReadBody(bytes.NewReader(in), enc, limit)
			if wantErr != nil {
				if !errors.Is(err, wantErr) {
					t.Fatalf("err %v, want %v", err, wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes %.40q, %v; want %d bytes %.40q", len(got), got, err, len(want), want)
			}
		})
	}
	f("plain", []byte(body), "", 0, []byte(body), nil)
	f("identity", []byte(body), "identity", 0, []byte(body), nil)
	f("plain at limit", []byte(body), "", len(body), []byte(body), nil)
	f("plain over limit", []byte(body), "", len(body)-1, nil, ErrTooLarge)

	f("gzip", gz, "gzip", 0, long, nil)
	f("x-gzip", gz, "X-Gzip", 0, long, nil)
	f("gzip at limit", gz, "gzip", len(long), long, nil)
	f("gzip over limit", gz, "gzip", 100, nil, ErrTooLarge)
	f("gzip bomb", gzipOf(t, zeros), "gzip", bombLimit, nil, ErrTooLarge)
	f("gzip truncated", gz[:len(gz)-10], "gzip", 0, nil, ErrCompression)
	f("gzip garbage", []byte("not gzip at all"), "gzip", 0, nil, ErrCompression)
	f("gzip empty", nil, "gzip", 0, nil, ErrCompression)

	f("snappy block", snappy.Encode(nil, long), "snappy", 0, long, nil)
	f("snappy block empty", snappy.Encode(nil, nil), "snappy", 0, []byte{}, nil)
	f("snappy block over limit", snappy.Encode(nil, long), "snappy", 100, nil, ErrTooLarge)
	f("snappy block bomb", snappy.Encode(nil, zeros), "snappy", bombLimit, nil, ErrTooLarge)
	f("snappy block garbage", []byte{0xff}, "snappy", 0, nil, ErrCompression)
	f("snappy framed", framed, "snappy", 0, long, nil)
	f("snappy framed empty", []byte(snappyStreamID), "Snappy", 0, []byte{}, nil)
	f("snappy framed at limit", framed, "snappy", len(long), long, nil)
	f("snappy framed over limit", framed, "snappy", 100, nil, ErrTooLarge)
	f("snappy framed bomb", snappyFramedOf(t, zeros), "snappy", bombLimit, nil, ErrTooLarge)
	f("snappy framed truncated", framed[:len(framed)-3], "snappy", 0, nil, ErrCompression)
	f("snappy framed garbage", []byte(snappyStreamID+"\x00\x05\x00\x00garbage"), "snappy", 0, nil, ErrCompression)
	f("x-snappy-framed", framed, "x-snappy-framed", 0, long, nil)
	f("x-snappy-framed refuses block", snappy.Encode(nil, long), "x-snappy-framed", 0, nil, ErrCompression)

	f("zstd", zs, "zstd", 0, long, nil)
	f("zstd at limit", zs, "ZSTD", len(long), long, nil)
	f("zstd over limit", zs, "zstd", 100, nil, ErrTooLarge)
	f("zstd bomb", zstdOf(t, zeros), "zstd", bombLimit, nil, ErrTooLarge)
	f("zstd two frames", append(zstdOf(t, []byte("a 1\n")), zstdOf(t, []byte("b 2\n"))...), "zstd", 0, []byte("a 1\nb 2\n"), nil)
	f("zstd truncated", zs[:len(zs)-3], "zstd", 0, nil, ErrCompression)
	f("zstd garbage", []byte("not zstd at all"), "zstd", 0, nil, ErrCompression)
	f("zstd empty", nil, "zstd", 0, []byte{}, nil)
	// A frame that declares a 64 MiB window, which its decoder would
	// allocate before decoding a byte: magic, frame header descriptor (no
	// content size, not single segment), window descriptor 2^(10+16), then
	// one last raw block of 5 bytes.
	wide := []byte("\x28\xb5\x2f\xfd\x00\x80\x29\x00\x00up 1\n")
	f("zstd wide window", wide, "zstd", 0, nil, ErrTooLarge)
	f("zstd wide window within a larger limit", wide, "zstd", 64<<20, []byte(body), nil)

	f("brotli", []byte(body), "br", 0, nil, ErrUnsupportedMediaType)
	f("deflate", []byte(body), "deflate", 0, nil, ErrUnsupportedMediaType)
	f("two encodings", gz, "gzip, zstd", 0, nil, ErrUnsupportedMediaType)
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReadBodyReadError: a failing connection is reported as itself, never
// as corrupt compression, so the server does not blame the sender's
// encoder for a body it could not read.
func TestReadBodyReadError(t *testing.T) {
	errConn := errors.New("connection reset")
	long := []byte(strings.Repeat("up 1\n", 1000))
	for _, tc := range []struct {
		enc  string
		body []byte
	}{
		{"", long},
		{"gzip", gzipOf(t, long)},
		{"snappy", snappy.Encode(nil, long)},
		{"snappy", snappyFramedOf(t, long)},
		{"x-snappy-framed", snappyFramedOf(t, long)},
		{"zstd", zstdOf(t, long)},
	} {
		for _, cut := range []int{0, 5, len(tc.body) / 2} {
			_, err := ReadBody(&failingReader{tc.body[:cut], errConn}, tc.enc, 0)
			if !errors.Is(err, errConn) || errors.Is(err, ErrCompression) {
				t.Errorf("%q cut at %d: err %v, want the read error only", tc.enc, cut, err)
			}
			if err != nil && strings.Count(err.Error(), "reading body") != 1 {
				t.Errorf("%q cut at %d: message %q", tc.enc, cut, err)
			}
		}
	}
}

// FuzzReadBody: any body under any encoding gives an error or at most
// the limit of bytes, never a panic.
func FuzzReadBody(f *testing.F) {
	long := []byte(strings.Repeat("up 1\n", 100))
	for _, seed := range []struct {
		enc  string
		body []byte
	}{
		{"", long},
		{"gzip", gzipOf(f, long)},
		{"snappy", snappy.Encode(nil, long)},
		{"snappy", snappyFramedOf(f, long)},
		{"x-snappy-framed", snappyFramedOf(f, long)},
		{"zstd", zstdOf(f, long)},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58}},
		{"snappy", []byte(snappyStreamID + "\x01\x09\x00\x00")},
	} {
		f.Add(seed.enc, seed.body)
	}
	const limit = 1 << 12
	f.Fuzz(func(t *testing.T, enc string, body []byte) {
		got, err := ReadBody(bytes.NewReader(body), enc, limit)
		if err != nil {
			if !errors.Is(err, ErrCompression) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnsupportedMediaType) {
				t.Fatalf("error %v matches no sentinel", err)
			}
			return
		}
		if len(got) > limit {
			t.Fatalf("%d bytes, over the limit of %d", len(got), limit)
		}
	})
}
