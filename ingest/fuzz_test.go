package ingest

import (
	"bytes"
	"math"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
)

// checkRequest verifies what a decoder returned for any input: counts add
// up and every series has samples.
func checkRequest(t *testing.T, req *Request) {
	n := 0
	for _, s := range req.Series {
		if len(s.Samples) == 0 {
			t.Fatalf("series %s without samples", s.Labels)
		}
		n += len(s.Samples)
	}
	if n != req.Samples {
		t.Fatalf("Samples = %d, series hold %d", req.Samples, n)
	}
	for _, d := range req.Dropped {
		_ = d.Error()
	}
}

// roundTrip re-encodes a decoded request and checks it decodes the same.
func roundTrip(t *testing.T, req *Request, encode func(testing.TB, []Series) []byte, decode func([]byte) (*Request, error), withST bool) {
	again, err := decode(encode(t, req.Series))
	if err != nil {
		t.Fatalf("re-encoded request does not decode: %v", err)
	}
	sameSeries(t, again.Series, req.Series, withST)
}

func fuzzSeeds(f *testing.F, encode func(testing.TB, []Series) []byte) {
	f.Add(encode(f, testSeries()))
	f.Add(encode(f, []Series{{Labels: labels.FromStrings("a", ""), Samples: []Sample{{T: math.MinInt64, V: math.NaN()}}}}))
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{0x2a, 0x04, 0x0a, 0x02, 0x09, 0x09})
}

// FuzzDecodeWriteV1: arbitrary bytes give an error or a consistent request,
// never a panic.
func FuzzDecodeWriteV1(f *testing.F) {
	fuzzSeeds(f, encodeV1)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeWriteV1(data)
		if err != nil {
			return
		}
		checkRequest(t, req)
		roundTrip(t, req, encodeV1, DecodeWriteV1, false)
	})
}

// FuzzDecodeWriteV2: as FuzzDecodeWriteV1, with symbol references to check.
func FuzzDecodeWriteV2(f *testing.F) {
	fuzzSeeds(f, encodeV2)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeWriteV2(data)
		if err != nil {
			return
		}
		checkRequest(t, req)
		roundTrip(t, req, encodeV2, DecodeWriteV2, true)
	})
}

// FuzzReadRemoteWrite: the whole path from a compressed body, for both
// protocols and a small limit, never panics.
func FuzzReadRemoteWrite(f *testing.F) {
	f.Add(snappy.Encode(nil, encodeV1(f, testSeries())), false)
	f.Add(snappy.Encode(nil, encodeV2(f, testSeries())), true)
	f.Add([]byte("garbage"), true)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}, false)
	f.Fuzz(func(t *testing.T, body []byte, v2 bool) {
		p := RemoteWriteV1
		if v2 {
			p = RemoteWriteV2
		}
		req, err := ReadRemoteWrite(bytes.NewReader(body), p, 1<<16)
		if err != nil {
			return
		}
		checkRequest(t, req)
	})
}
