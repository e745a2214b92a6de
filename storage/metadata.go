package storage

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Metadata describes a metric family, as Prometheus's metadata API and
// remote write carry it: type (counter, gauge, histogram, gaugehistogram,
// summary, info, stateset, unknown), help text and unit.
type Metadata struct {
	Metric string
	Type   string
	Help   string
	Unit   string
}

// maxMetadataVariants bounds the distinct metadata kept per metric (targets
// may disagree, e.g. across versions); the newest variants are kept.
const maxMetadataVariants = 10

// metadataStore is the metadata of every metric: in memory for reads,
// persisted under prefixMetadata. Writes happen only when something
// changed, so the steady stream of unchanged metadata remote write sends
// costs a map lookup.
type metadataStore struct {
	mu sync.RWMutex
	m  map[string][]Metadata // by metric, oldest variant first
}

func metadataKey(metric string) []byte { return append([]byte{prefixMetadata}, metric...) }

func encodeMetadata(ms []Metadata) []byte {
	b := binary.AppendUvarint(nil, uint64(len(ms)))
	for _, m := range ms {
		for _, s := range [...]string{m.Type, m.Help, m.Unit} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return b
}

func decodeMetadata(metric string, b []byte) ([]Metadata, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: metadata of %q: bad count", ErrCorruption, metric)
	}
	b = b[w:]
	out := make([]Metadata, 0, n)
	for range n {
		var f [3]string
		for i := range f {
			l, w := binary.Uvarint(b)
			if w <= 0 || uint64(len(b)-w) < l {
				return nil, fmt.Errorf("%w: metadata of %q: truncated", ErrCorruption, metric)
			}
			f[i] = string(b[w : w+int(l)])
			b = b[w+int(l):]
		}
		out = append(out, Metadata{Metric: metric, Type: f[0], Help: f[1], Unit: f[2]})
	}
	return out, nil
}

// loadMetadata reads every metric's metadata at Open.
func (db *DB) loadMetadata() error {
	db.meta.m = map[string][]Metadata{}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixMetadata}, UpperBound: []byte{prefixMetadata + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		metric := string(it.Key()[1:])
		ms, err := decodeMetadata(metric, it.Value())
		if err != nil {
			return err
		}
		db.meta.m[metric] = ms
	}
	return it.Error()
}

// SetMetadata records metric metadata. Entries already known cost nothing;
// a new variant of a metric is written durably. Entries without a metric
// name or with nothing to say are ignored.
func (db *DB) SetMetadata(ms []Metadata) error {
	var changed map[string][]Metadata
	db.meta.mu.Lock()
	for _, m := range ms {
		if m.Metric == "" || (m.Type == "" && m.Help == "" && m.Unit == "") {
			continue
		}
		cur := db.meta.m[m.Metric]
		if slices.Contains(cur, m) {
			continue
		}
		cur = append(slices.Clone(cur), m)
		if len(cur) > maxMetadataVariants {
			cur = cur[len(cur)-maxMetadataVariants:]
		}
		db.meta.m[m.Metric] = cur
		if changed == nil {
			changed = map[string][]Metadata{}
		}
		changed[m.Metric] = cur
	}
	db.meta.mu.Unlock()
	if len(changed) == 0 {
		return nil
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.mu.closed {
		return ErrClosed
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	for metric, cur := range changed {
		if err := b.Set(metadataKey(metric), encodeMetadata(cur), nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

// Metadata returns the metadata of the metric named (all metrics when
// metric is empty), at most limit metrics and limitPerMetric variants
// each (negative: no limit), newest variant first, as Prometheus lists
// them; a metric left with no variant is not listed.
func (db *DB) Metadata(metric string, limit, limitPerMetric int) map[string][]Metadata {
	db.meta.mu.RLock()
	defer db.meta.mu.RUnlock()
	out := map[string][]Metadata{}
	names := make([]string, 0, len(db.meta.m))
	for name := range db.meta.m {
		if metric == "" || name == metric {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if limit >= 0 && len(out) >= limit {
			break
		}
		ms := slices.Clone(db.meta.m[name])
		slices.Reverse(ms)
		if limitPerMetric >= 0 && len(ms) > limitPerMetric {
			ms = ms[:limitPerMetric]
		}
		if len(ms) > 0 {
			out[name] = ms
		}
	}
	return out
}
