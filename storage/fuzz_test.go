package storage

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// FuzzLogRecord: head log records are read back from disk at Open; a
// damaged one must give an error, never a panic, and a valid one must
// round-trip.
func FuzzLogRecord(f *testing.F) {
	f.Add(appendLogSeries(nil, 3, []sample{{t: 1000, v: 1.5}, {t: 16000, v: 2, st: 900}}))
	f.Add(appendLogSeries(appendLogSeries(nil, 0, []sample{{t: -5, v: 0}}), 1<<31, []sample{{t: 1 << 62, v: -1}}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, rec []byte) {
		var got []byte
		err := decodeLogRecord(rec, func(sid uint32, samples []sample) error {
			got = appendLogSeries(got, sid, samples)
			return nil
		})
		if err != nil {
			return
		}
		var again []byte
		if err := decodeLogRecord(got, func(sid uint32, samples []sample) error {
			again = appendLogSeries(again, sid, samples)
			return nil
		}); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if string(again) != string(got) {
			t.Fatalf("record does not round-trip")
		}
	})
}

// FuzzLabels: stored label sets must decode or fail cleanly.
func FuzzLabels(f *testing.F) {
	f.Add(encodeLabels(nil, labels.FromStrings("__name__", "up", "job", "node")))
	f.Add(encodeLabels(nil, labels.FromStrings("a.b", "é")))
	f.Add([]byte{5, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var sb labels.ScratchBuilder
		lset, err := decodeLabels(&sb, b)
		if err != nil {
			return
		}
		if got := encodeLabels(nil, lset); string(got) != string(b) {
			// Decoding is strict, so a decodable input is canonical unless
			// the label order differs: re-decode and compare sets.
			again, err := decodeLabels(&sb, got)
			if err != nil || !labels.Equal(again, lset) {
				t.Fatalf("labels %v do not round-trip: %v", lset, err)
			}
		}
	})
}
