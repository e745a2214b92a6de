package storage

import (
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

const (
	// prefetchMinSeries: smaller selections are decoded on the caller's goroutine.
	prefetchMinSeries = 16
	maxDecodeWorkers  = 8
	// prefetchAhead bounds how many decoded series wait for the caller, per worker.
	prefetchAhead = 8
)

// prefetcher decodes the series of a SeriesSet ahead of the caller, in
// order, on several goroutines. Positions are handed out by one producer
// that holds a token per slot of a ring; the caller returns a token when it
// moves past a position, so at most len(slots) series are decoded and
// unread at once, and slot p%len(slots) is free when position p is issued.
type prefetcher struct {
	ss    *SeriesSet
	slots []prefetchSlot
	done  []chan struct{} // closed when position p is decoded
	free  chan struct{}   // tokens: free slots
	jobs  chan int
	stop  chan struct{}
	wg    sync.WaitGroup
	held  bool // the caller holds the slot of position pos-1
	slot  *prefetchSlot
}

type prefetchSlot struct {
	s   Series
	err error
}

func (ss *SeriesSet) startPrefetch(workers int) error {
	n := len(ss.order)
	pf := &prefetcher{
		ss:    ss,
		slots: make([]prefetchSlot, workers*prefetchAhead),
		done:  make([]chan struct{}, n),
		jobs:  make(chan int),
		stop:  make(chan struct{}),
	}
	for p := range pf.done {
		pf.done[p] = make(chan struct{})
	}
	pf.free = make(chan struct{}, len(pf.slots))
	for range pf.slots {
		pf.free <- struct{}{}
	}
	iters := make([]*pebble.Iterator, workers)
	for w := range iters {
		it, err := ss.snap.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixChunk}, UpperBound: []byte{prefixChunk + 1}})
		if err != nil {
			for _, it := range iters[:w] {
				it.Close()
			}
			return err
		}
		iters[w] = it
	}
	pf.wg.Go(func() {
		defer close(pf.jobs)
		for p := range n {
			select {
			case <-pf.free:
			case <-pf.stop:
				return
			}
			select {
			case pf.jobs <- p:
			case <-pf.stop:
				return
			}
		}
	})
	for _, it := range iters {
		pf.wg.Go(func() {
			defer it.Close()
			for p := range pf.jobs {
				pf.decode(it, p)
			}
		})
	}
	ss.pf = pf
	return nil
}

// decode loads position p into its slot; a panic becomes the slot's error.
func (pf *prefetcher) decode(it *pebble.Iterator, p int) {
	slot := &pf.slots[p%len(pf.slots)]
	defer close(pf.done[p])
	defer func() {
		if r := recover(); r != nil {
			slot.err = fmt.Errorf("decoding series %d panicked: %v", pf.ss.sids[pf.ss.order[p]], r)
		}
	}()
	i := pf.ss.order[p]
	slot.err = pf.ss.load(it, &slot.s, pf.ss.sids[i], pf.ss.labels[i])
}

// nextPrefetched is Next for a prefetching SeriesSet.
func (ss *SeriesSet) nextPrefetched() bool {
	pf := ss.pf
	for ss.err == nil && ss.pos < len(ss.order) {
		pf.release()
		p := ss.pos
		ss.pos++
		select {
		case <-pf.done[p]:
		case <-ss.ctx.Done():
			ss.err = ss.ctx.Err()
			return false
		}
		pf.held = true
		slot := &pf.slots[p%len(pf.slots)]
		if slot.err != nil {
			ss.err = slot.err
			return false
		}
		if len(slot.s.T) > 0 {
			pf.slot = slot
			return true
		}
	}
	pf.release()
	return false
}

// release hands the slot the caller holds back to the producer.
func (pf *prefetcher) release() {
	if pf.held {
		pf.held = false
		pf.free <- struct{}{}
	}
}

func (pf *prefetcher) current() *Series { return &pf.slot.s }

// close stops the producer and the workers and waits for them.
func (pf *prefetcher) close() error {
	close(pf.stop)
	pf.wg.Wait()
	return nil
}
