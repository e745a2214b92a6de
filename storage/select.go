package storage

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac/storage/chunk"
)

// maxDayPostingDays: a query spanning more days reads all-time postings
// instead of the union of per-day postings.
const maxDayPostingDays = 8

// scopeDays returns the days whose per-day postings cover [mint, maxt], or
// nil to use the all-time postings.
func scopeDays(mint, maxt int64) []int32 {
	lo, hi := dayOf(mint), dayOf(maxt)
	if int64(hi)-int64(lo) >= maxDayPostingDays || hi < lo {
		return nil
	}
	days := make([]int32, 0, hi-lo+1)
	for d := lo; d <= hi; d++ {
		days = append(days, d)
	}
	return days
}

// Series is one series' samples in a queried range, as columns. ST is nil
// when the series has no start timestamps in the range.
type Series struct {
	Labels labels.Labels
	T      []int64
	V      []float64
	ST     []int64
}

// headCopy is what a query takes from the head of one series, under the
// same lock as its pebble snapshot, so both describe one moment.
type headCopy struct {
	lset     labels.Labels
	open     []byte // XOR2 bytes of the open chunk, nil if none
	openMint int64
	ooo      []sample
}

// SeriesSet iterates the series a Select found, sorted by labels. Series
// are decoded as Next asks for them, ahead of the caller on several
// goroutines for larger sets; the Series returned by At is valid until the
// next call to Next. A SeriesSet is for one goroutine. Close is required:
// it stops the decoders and releases the snapshot.
type SeriesSet struct {
	ctx        context.Context
	snap       *pebble.Snapshot
	it         *pebble.Iterator
	mint, maxt int64
	sids       []uint32
	days       []int32 // days in range that hold any chunk
	heads      map[uint32]*headCopy
	labels     []labels.Labels
	order      []int
	pos        int
	cur        Series
	err        error
	pf         *prefetcher // decodes ahead on several goroutines; nil for small sets
}

// Select returns the series matching all matchers that have samples in
// [mint, maxt], sorted by their labels.
func (db *DB) Select(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) (*SeriesSet, error) {
	return db.sel(ctx, mint, maxt, true, ms)
}

// SelectInCreationOrder is Select without the sort: series come in the
// order they were created, the order Prometheus's head returns them in.
// PromQL does not define series order, but it decides how ties in topk
// break and how sums round, so the query engine reads in this order to
// give Prometheus's answers bit for bit on the same data.
func (db *DB) SelectInCreationOrder(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) (*SeriesSet, error) {
	return db.sel(ctx, mint, maxt, false, ms)
}

func (db *DB) sel(ctx context.Context, mint, maxt int64, sorted bool, ms []*labels.Matcher) (*SeriesSet, error) {
	if mint > maxt {
		return &SeriesSet{}, nil
	}
	sids, err := db.matching(mint, maxt, ms)
	if err != nil {
		return nil, err
	}
	ss := &SeriesSet{ctx: ctx, mint: mint, maxt: maxt, heads: map[uint32]*headCopy{}}
	db.mu.RLock()
	if db.mu.closed {
		db.mu.RUnlock()
		return nil, ErrClosed
	}
	ss.snap = db.pdb.NewSnapshot()
	for _, sid := range sids {
		s := db.mu.series[sid]
		if s == nil {
			ss.sids = append(ss.sids, sid)
			continue
		}
		hc := &headCopy{lset: s.lset, openMint: math.MaxInt64}
		if s.open != nil {
			hc.openMint = s.openMint
			if s.openMaxt >= mint && s.openMint <= maxt {
				hc.open = slices.Clone(s.open.Bytes())
			}
		}
		for _, o := range s.ooo {
			if o.t >= mint && o.t <= maxt {
				hc.ooo = append(hc.ooo, o)
			}
		}
		ss.heads[sid] = hc
		ss.sids = append(ss.sids, sid)
	}
	db.mu.RUnlock()

	if ss.days, err = chunkDays(ss.snap, dayOf(mint), dayOf(maxt)); err != nil {
		ss.Close()
		return nil, err
	}
	ss.labels = make([]labels.Labels, len(ss.sids))
	ss.order = make([]int, len(ss.sids))
	for i, sid := range ss.sids {
		ss.order[i] = i
		if hc := ss.heads[sid]; hc != nil {
			ss.labels[i] = hc.lset
			continue
		}
		if ss.labels[i], err = readSeriesLabels(ss.snap, sid); err != nil {
			ss.Close()
			return nil, err
		}
	}
	if sorted {
		slices.SortFunc(ss.order, func(a, b int) int { return labels.Compare(ss.labels[a], ss.labels[b]) })
	}
	lower := []byte{prefixChunk}
	if ss.it, err = ss.snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: []byte{prefixChunk + 1}}); err != nil {
		ss.Close()
		return nil, err
	}
	if workers := min(runtime.GOMAXPROCS(0), maxDecodeWorkers); workers > 1 && len(ss.order) >= prefetchMinSeries {
		if err := ss.startPrefetch(workers); err != nil {
			ss.Close()
			return nil, err
		}
	}
	return ss, nil
}

// chunkDays lists the days in [lo, hi] that hold at least one chunk, by
// skipping from day to day: a handful of seeks with retention in days.
func chunkDays(r pebble.Reader, lo, hi int32) ([]int32, error) {
	it, err := r.NewIter(&pebble.IterOptions{
		LowerBound: appendDay([]byte{prefixChunk}, lo),
		UpperBound: prefixEnd(appendDay([]byte{prefixChunk}, hi)),
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var days []int32
	for valid := it.First(); valid; {
		d := decodeDay(it.Key()[1:5])
		days = append(days, d)
		if d == math.MaxInt32 {
			break
		}
		valid = it.SeekGE(appendDay([]byte{prefixChunk}, d+1))
	}
	return days, it.Error()
}

// snapshot takes a pebble snapshot, or reports that the database is closed.
func (db *DB) snapshot() (*pebble.Snapshot, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.mu.closed {
		return nil, ErrClosed
	}
	return db.pdb.NewSnapshot(), nil
}

// matching returns the ids of series matching ms in [mint, maxt], in id order.
func (db *DB) matching(mint, maxt int64, ms []*labels.Matcher) ([]uint32, error) {
	snap, err := db.snapshot()
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	ix := &indexReader{r: snap, days: scopeDays(mint, maxt)}
	bm, err := ix.selectSeries(ms)
	if err != nil {
		return nil, err
	}
	return bm.ToArray(), nil
}

// Next decodes the next series that has samples in range.
func (ss *SeriesSet) Next() bool {
	if ss.pf != nil {
		return ss.nextPrefetched()
	}
	for ss.err == nil && ss.pos < len(ss.order) {
		if ss.pos%64 == 0 {
			if err := ss.ctx.Err(); err != nil {
				ss.err = err
				return false
			}
		}
		i := ss.order[ss.pos]
		ss.pos++
		if err := ss.load(ss.it, &ss.cur, ss.sids[i], ss.labels[i]); err != nil {
			ss.err = err
			return false
		}
		if len(ss.cur.T) > 0 {
			return true
		}
	}
	return false
}

// At returns the current series; valid until the next call to Next.
func (ss *SeriesSet) At() *Series {
	if ss.pf != nil {
		return ss.pf.current()
	}
	return &ss.cur
}

// Err returns the error that stopped Next, if any.
func (ss *SeriesSet) Err() error { return ss.err }

// Close releases the snapshot. It is safe to call more than once.
func (ss *SeriesSet) Close() error {
	var err error
	if ss.pf != nil {
		err = ss.pf.close()
		ss.pf = nil
	}
	if ss.it != nil {
		err = ss.it.Close()
		ss.it = nil
	}
	if ss.snap != nil {
		if e := ss.snap.Close(); err == nil {
			err = e
		}
		ss.snap = nil
	}
	return err
}

// load gathers one series' samples in [mint, maxt] from its chunks on disk,
// its out-of-order buffer and its open head chunk.
func (ss *SeriesSet) load(it *pebble.Iterator, c *Series, sid uint32, lset labels.Labels) error {
	c.Labels = lset
	c.T, c.V, c.ST = c.T[:0], c.V[:0], nil
	hc := ss.heads[sid]
	skipMint := int64(math.MaxInt64)
	if hc != nil {
		skipMint = hc.openMint
	}
	for _, d := range ss.days {
		prefix := chunkSeriesPrefix(nil, d, sid)
		for valid := it.SeekGE(prefix); valid && hasPrefix(it.Key(), prefix); valid = it.Next() {
			if decodeTime(it.Key()[len(prefix):]) == skipMint {
				continue // the head holds this chunk and more
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return err
			}
			info, err := chunk.ReadInfo(v)
			if err != nil {
				return fmt.Errorf("series %d chunk %x: %w: %w", sid, it.Key(), ErrCorruption, err)
			}
			if info.MaxT < ss.mint || info.MinT > ss.maxt {
				continue
			}
			n := len(c.T)
			var sts []int64
			if c.ST != nil {
				sts = c.ST
			}
			if c.T, c.V, sts, err = chunk.Decode(v, c.T, c.V, sts); err != nil {
				return fmt.Errorf("series %d chunk %x: %w: %w", sid, it.Key(), ErrCorruption, err)
			}
			c.ST = padST(c.ST, sts, n, len(c.T))
		}
		if err := it.Error(); err != nil {
			return err
		}
	}
	if hc != nil {
		for _, o := range hc.ooo {
			c.T, c.V = append(c.T, o.t), append(c.V, o.v)
			if o.st != 0 && c.ST == nil {
				c.ST = make([]int64, len(c.T)-1, cap(c.T))
			}
			if c.ST != nil {
				c.ST = append(c.ST, o.st)
			}
		}
		if hc.open != nil {
			n := len(c.T)
			var sts []int64
			c.T, c.V, sts = decodeXOR2(hc.open, c.T, c.V, c.ST)
			c.ST = padST(c.ST, sts, n, len(c.T))
		}
	}
	if !slices.IsSorted(c.T) {
		sortDedupe(c)
	}
	trimRange(c, ss.mint, ss.maxt)
	return nil
}

// padST reconciles the start-timestamp column after decoding samples
// [n, total) whose own column came back as got (nil when they had none).
func padST(have, got []int64, n, total int) []int64 {
	switch {
	case have == nil && got == nil:
		return nil
	case have == nil: // first source with start timestamps: zero-fill before it
		out := make([]int64, n, total)
		return append(out, got...)
	case got == nil || len(got) < total: // this source had none: zero-fill it
		for len(have) < total {
			have = append(have, 0)
		}
		return have
	default:
		return got
	}
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == string(p) }

// sortDedupe orders the series' samples by time, keeping the first of any
// equal timestamps (sources are gathered oldest-written first).
func sortDedupe(c *Series) {
	idx := make([]int, len(c.T))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpInt64(c.T[a], c.T[b]) })
	ts := make([]int64, 0, len(idx))
	vs := make([]float64, 0, len(idx))
	var sts []int64
	if c.ST != nil {
		sts = make([]int64, 0, len(idx))
	}
	for _, i := range idx {
		if len(ts) > 0 && ts[len(ts)-1] == c.T[i] {
			continue
		}
		ts, vs = append(ts, c.T[i]), append(vs, c.V[i])
		if sts != nil {
			sts = append(sts, c.ST[i])
		}
	}
	c.T, c.V, c.ST = ts, vs, sts
}

// trimRange keeps the samples in [mint, maxt].
func trimRange(c *Series, mint, maxt int64) {
	lo, _ := slices.BinarySearch(c.T, mint)
	hi, found := slices.BinarySearch(c.T, maxt)
	if found {
		hi++
	}
	c.T, c.V = c.T[lo:hi], c.V[lo:hi]
	if c.ST != nil {
		c.ST = c.ST[lo:hi]
	}
}

// LabelNames returns the sorted label names of the series matching ms (all
// series when ms is empty) with samples in the days of [mint, maxt].
func (db *DB) LabelNames(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) ([]string, error) {
	snap, err := db.snapshot()
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	ix := &indexReader{r: snap, days: scopeDays(mint, maxt)}
	if len(ms) == 0 {
		return ix.labelNames()
	}
	lsets, err := db.seriesLabels(ctx, snap, ix, ms)
	if err != nil {
		return nil, err
	}
	seen := map[string]struct{}{}
	for _, ls := range lsets {
		ls.Range(func(l labels.Label) { seen[l.Name] = struct{}{} })
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// LabelValues returns the sorted values of label name among the series
// matching ms with samples in the days of [mint, maxt].
func (db *DB) LabelValues(ctx context.Context, mint, maxt int64, name string, ms ...*labels.Matcher) ([]string, error) {
	snap, err := db.snapshot()
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	ix := &indexReader{r: snap, days: scopeDays(mint, maxt)}
	var sel *roaring.Bitmap
	if len(ms) > 0 {
		if sel, err = ix.selectSeries(ms); err != nil {
			return nil, err
		}
	}
	seen := map[string]struct{}{}
	err = ix.forEachValue(name, func(value string, bm *roaring.Bitmap) error {
		if sel == nil || sel.Intersects(bm) {
			seen[value] = struct{}{}
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	values := make([]string, 0, len(seen))
	for v := range seen {
		values = append(values, v)
	}
	slices.Sort(values)
	return values, nil
}

// SeriesLabels returns the label sets of the series matching ms with
// samples in the days of [mint, maxt], sorted.
func (db *DB) SeriesLabels(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) ([]labels.Labels, error) {
	snap, err := db.snapshot()
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	lsets, err := db.seriesLabels(ctx, snap, &indexReader{r: snap, days: scopeDays(mint, maxt)}, ms)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(lsets, labels.Compare)
	return lsets, nil
}

func (db *DB) seriesLabels(ctx context.Context, snap *pebble.Snapshot, ix *indexReader, ms []*labels.Matcher) ([]labels.Labels, error) {
	bm, err := ix.selectSeries(ms)
	if err != nil {
		return nil, err
	}
	out := make([]labels.Labels, 0, bm.GetCardinality())
	it := bm.Iterator()
	for it.HasNext() {
		if len(out)%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ls, err := readSeriesLabels(snap, it.Next())
		if err != nil {
			return nil, err
		}
		out = append(out, ls)
	}
	return out, nil
}
