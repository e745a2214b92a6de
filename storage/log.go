package storage

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// The head log holds each acknowledged batch's samples until a checkpoint
// writes them into chunks. One record per Append, keyed by sequence number:
//
//	record  := series* crc? (none: pebble checksums its WAL and sstables)
//	series  := uvarint(sid) uvarint(n) flags:1 sample*n
//	sample  := varint(t - prevT) bits(v):8 [varint(st) if flags&1]
//
// prevT starts at 0 for each series. The record ends when the bytes do.

const logFlagST = 1

func appendLogSeries(dst []byte, sid uint32, samples []sample) []byte {
	dst = binary.AppendUvarint(dst, uint64(sid))
	dst = binary.AppendUvarint(dst, uint64(len(samples)))
	var flags byte
	for _, s := range samples {
		if s.st != 0 {
			flags |= logFlagST
			break
		}
	}
	dst = append(dst, flags)
	prev := int64(0)
	for _, s := range samples {
		dst = binary.AppendVarint(dst, s.t-prev)
		prev = s.t
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.v))
		if flags&logFlagST != 0 {
			dst = binary.AppendVarint(dst, s.st)
		}
	}
	return dst
}

// decodeLogRecord calls fn for each series in a record.
func decodeLogRecord(rec []byte, fn func(sid uint32, samples []sample) error) error {
	var samples []sample
	for len(rec) > 0 {
		sid, w := binary.Uvarint(rec)
		if w <= 0 || sid > math.MaxUint32 {
			return fmt.Errorf("%w: head log: bad series id", ErrCorruption)
		}
		rec = rec[w:]
		n, w := binary.Uvarint(rec)
		if w <= 0 || n > uint64(len(rec)) {
			return fmt.Errorf("%w: head log: bad sample count for series %d", ErrCorruption, sid)
		}
		rec = rec[w:]
		if len(rec) < 1 {
			return fmt.Errorf("%w: head log: truncated", ErrCorruption)
		}
		flags := rec[0]
		rec = rec[1:]
		samples = samples[:0]
		prev := int64(0)
		for range n {
			dt, w := binary.Varint(rec)
			if w <= 0 || len(rec) < w+8 {
				return fmt.Errorf("%w: head log: truncated sample of series %d", ErrCorruption, sid)
			}
			s := sample{t: prev + dt, v: math.Float64frombits(binary.LittleEndian.Uint64(rec[w:]))}
			prev = s.t
			rec = rec[w+8:]
			if flags&logFlagST != 0 {
				st, w := binary.Varint(rec)
				if w <= 0 {
					return fmt.Errorf("%w: head log: truncated start timestamp of series %d", ErrCorruption, sid)
				}
				s.st = st
				rec = rec[w:]
			}
			samples = append(samples, s)
		}
		if err := fn(uint32(sid), samples); err != nil {
			return err
		}
	}
	return nil
}

// replayLog re-applies every head log record in sequence order. Samples a
// cut already wrote to disk come back as exact duplicates and are dropped.
func (db *DB) replayLog() error {
	lower := []byte{prefixHeadLog}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: []byte{prefixHeadLog + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	db.mu.Lock()
	defer db.mu.Unlock()
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		if len(k) != 9 {
			return fmt.Errorf("%w: head log key %x", ErrCorruption, k)
		}
		seq := binary.BigEndian.Uint64(k[1:])
		if seq >= db.mu.nextSeq {
			db.mu.nextSeq = seq + 1
		}
		var preps []prepared
		err := decodeLogRecord(it.Value(), func(sid uint32, samples []sample) error {
			if sid >= db.mu.nextSID {
				return fmt.Errorf("%w: head log record %d names unknown series %d", ErrCorruption, seq, sid)
			}
			preps = append(preps, prepared{sid: sid, exists: true, samples: append([]sample(nil), samples...)})
			return nil
		})
		if err != nil {
			return fmt.Errorf("replay head log record %d: %w", seq, err)
		}
		if _, err := db.applyLocked(preps, true); err != nil {
			return fmt.Errorf("replay head log record %d: %w", seq, err)
		}
	}
	return it.Error()
}
