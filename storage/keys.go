package storage

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"
)

// Key prefixes. Every key in the pebble key space starts with one of these
// bytes; the fields after it are big-endian so that byte order is scan order.
// docs/format.md carries the same table for operators.
const (
	prefixMeta       byte = 'v' // 'v' name                        → value (format version)
	prefixSeriesHash byte = 'h' // 'h' hash:8 sid:4                → empty (hash collisions: several keys)
	prefixSeries     byte = 's' // 's' sid:4                       → encoded label set
	prefixPostings   byte = 'p' // 'p' uvarint(len name) name value → roaring bitmap of sids, all time
	prefixDayPosting byte = 'd' // 'd' day:4 uvarint(len name) name value → roaring bitmap, one day
	prefixChunk      byte = 'c' // 'c' day:4 sid:4 mint:8          → chunk (storage/chunk format)
	prefixSeriesMaxT byte = 'm' // 'm' sid:4                       → newest persisted timestamp:8
	prefixHeadLog    byte = 'l' // 'l' seq:8                       → head log record
	prefixMetadata   byte = 'f' // 'f' metric name                 → metric family metadata
)

// formatVersion is stored under metaFormatKey; Open refuses other versions.
const formatVersion = 1

var metaFormatKey = []byte{prefixMeta, 'f', 'o', 'r', 'm', 'a', 't'}

// allPostingsName is the label name under which the postings of every series
// are kept. Real label names are never empty, so it cannot clash.
const allPostingsName = ""

const dayMillis = int64(24 * 60 * 60 * 1000)

// dayOf returns the day number of t (milliseconds), flooring toward -inf so
// that negative timestamps fall into the right day.
func dayOf(t int64) int32 {
	d := t / dayMillis
	if t%dayMillis < 0 {
		d--
	}
	if d > math.MaxInt32 {
		return math.MaxInt32
	}
	if d < math.MinInt32 {
		return math.MinInt32
	}
	return int32(d)
}

// dayStart returns the first millisecond of day d.
func dayStart(d int32) int64 { return int64(d) * dayMillis }

// appendDay encodes a day so that unsigned byte order matches signed order.
func appendDay(dst []byte, d int32) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(d)^(1<<31))
}

func decodeDay(b []byte) int32 { return int32(binary.BigEndian.Uint32(b) ^ (1 << 31)) }

// appendTime encodes a timestamp so that unsigned byte order matches signed order.
func appendTime(dst []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(t)^(1<<63))
}

func decodeTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func seriesHashKey(dst []byte, hash uint64, sid uint32) []byte {
	dst = append(dst, prefixSeriesHash)
	dst = binary.BigEndian.AppendUint64(dst, hash)
	return binary.BigEndian.AppendUint32(dst, sid)
}

func seriesKey(dst []byte, sid uint32) []byte {
	return binary.BigEndian.AppendUint32(append(dst, prefixSeries), sid)
}

func seriesMaxTKey(dst []byte, sid uint32) []byte {
	return binary.BigEndian.AppendUint32(append(dst, prefixSeriesMaxT), sid)
}

// postingsNamePrefix is the prefix shared by every postings key of one label
// name. Values are valid UTF-8 and so never contain 0xff: appending 0xff to
// this prefix gives a key just past the name's last value.
func postingsNamePrefix(dst []byte, name string) []byte {
	dst = append(dst, prefixPostings)
	dst = binary.AppendUvarint(dst, uint64(len(name)))
	return append(dst, name...)
}

func postingsKey(dst []byte, name, value string) []byte {
	return append(postingsNamePrefix(dst, name), value...)
}

func dayPostingsNamePrefix(dst []byte, day int32, name string) []byte {
	dst = appendDay(append(dst, prefixDayPosting), day)
	dst = binary.AppendUvarint(dst, uint64(len(name)))
	return append(dst, name...)
}

func dayPostingsKey(dst []byte, day int32, name, value string) []byte {
	return append(dayPostingsNamePrefix(dst, day, name), value...)
}

// splitPostingsKey returns the name and value of a postings key whose prefix
// (the 'p' byte, or 'd' and the day) has already been removed.
func splitPostingsKey(rest []byte) (name, value string, err error) {
	n, w := binary.Uvarint(rest)
	if w <= 0 || uint64(len(rest)-w) < n {
		return "", "", fmt.Errorf("%w: bad postings key %q", ErrCorruption, rest)
	}
	return string(rest[w : w+int(n)]), string(rest[w+int(n):]), nil
}

func chunkKey(dst []byte, day int32, sid uint32, mint int64) []byte {
	dst = appendDay(append(dst, prefixChunk), day)
	dst = binary.BigEndian.AppendUint32(dst, sid)
	return appendTime(dst, mint)
}

// chunkSeriesPrefix is the prefix of every chunk of series sid in day d.
func chunkSeriesPrefix(dst []byte, day int32, sid uint32) []byte {
	dst = appendDay(append(dst, prefixChunk), day)
	return binary.BigEndian.AppendUint32(dst, sid)
}

func headLogKey(dst []byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, prefixHeadLog), seq)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

// encodeLabels writes a label set as uvarint count then length-prefixed
// name and value strings, a format independent of the labels build tag.
func encodeLabels(dst []byte, ls labels.Labels) []byte {
	dst = binary.AppendUvarint(dst, uint64(ls.Len()))
	ls.Range(func(l labels.Label) {
		dst = binary.AppendUvarint(dst, uint64(len(l.Name)))
		dst = append(dst, l.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(l.Value)))
		dst = append(dst, l.Value...)
	})
	return dst
}

func decodeLabels(b *labels.ScratchBuilder, src []byte) (labels.Labels, error) {
	n, w := binary.Uvarint(src)
	if w <= 0 || n > uint64(len(src)) {
		return labels.EmptyLabels(), fmt.Errorf("%w: bad label set header", ErrCorruption)
	}
	src = src[w:]
	b.Reset()
	readString := func() (string, bool) {
		l, w := binary.Uvarint(src)
		if w <= 0 || uint64(len(src)-w) < l {
			return "", false
		}
		s := string(src[w : w+int(l)])
		src = src[w+int(l):]
		return s, true
	}
	for range n {
		name, ok1 := readString()
		value, ok2 := readString()
		if !ok1 || !ok2 {
			return labels.EmptyLabels(), fmt.Errorf("%w: truncated label set", ErrCorruption)
		}
		b.Add(name, value)
	}
	if len(src) != 0 {
		return labels.EmptyLabels(), fmt.Errorf("%w: %d trailing bytes after label set", ErrCorruption, len(src))
	}
	return b.Labels(), nil
}
