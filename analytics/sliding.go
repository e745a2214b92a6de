package analytics

import "math"

// SlidingMedian keeps the last w values of a stream and answers median and
// MAD queries over them without re-sorting. It stores the window in an
// order-statistics treap (a balanced search tree whose nodes know their
// subtree size), so Push costs O(log w), Median O(log w) and MAD O(log² w)
// (a selection over two sorted views of the window, each probe a rank
// lookup). Recomputing from scratch would cost O(w log w) per step.
//
// A SlidingMedian is not safe for concurrent use.
type SlidingMedian struct {
	ring  []slot // circular buffer of the last len(ring) pushes
	next  int    // ring index the next push overwrites
	count int    // pushes held, <= len(ring)
	seq   uint64 // id of the next push; makes equal values distinct in the tree
	tree  ostree
}

type slot struct {
	v   float64
	seq uint64
}

// NewSlidingMedian returns an empty window of the given size; a size below 1
// is treated as 1.
func NewSlidingMedian(window int) *SlidingMedian {
	window = max(window, 1)
	return &SlidingMedian{
		ring: make([]slot, window),
		tree: newOSTree(window),
	}
}

// Push appends x, evicting the oldest value once the window is full. A
// missing value (see IsMissing) takes a place in the window, so the window
// stays aligned with time, but is left out of Median and MAD.
func (s *SlidingMedian) Push(x float64) {
	if s.count == len(s.ring) {
		old := s.ring[s.next]
		if !IsMissing(old.v) {
			s.tree.remove(old.v, old.seq)
		}
	} else {
		s.count++
	}
	s.ring[s.next] = slot{v: x, seq: s.seq}
	if !IsMissing(x) {
		s.tree.insert(x, s.seq)
	}
	s.seq++
	s.next = (s.next + 1) % len(s.ring)
}

// Count returns how many non-missing values the window holds.
func (s *SlidingMedian) Count() int { return s.tree.size(s.tree.root) }

// Median returns the median of the non-missing values in the window, as
// Median would, or NaN when there are none.
func (s *SlidingMedian) Median() float64 {
	n := s.Count()
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s.tree.kth(n / 2)
	}
	return (s.tree.kth(n/2-1) + s.tree.kth(n/2)) / 2
}

// MAD returns the scaled median absolute deviation of the non-missing values
// in the window, as MAD would, or NaN when there are none.
func (s *SlidingMedian) MAD() float64 {
	n := s.Count()
	if n == 0 {
		return math.NaN()
	}
	m := s.Median()
	if n%2 == 1 {
		return MADScale * s.kthDeviation(m, n/2)
	}
	return MADScale * (s.kthDeviation(m, n/2-1) + s.kthDeviation(m, n/2)) / 2
}

// Reset empties the window, keeping its size and memory.
func (s *SlidingMedian) Reset() {
	s.next, s.count, s.seq = 0, 0, 0
	s.tree.reset()
}

// kthDeviation returns the k-th smallest (0-based) of |x - m| over the tree.
func (s *SlidingMedian) kthDeviation(m float64, k int) float64 {
	return KthDeviation(m, k, s.Count(), s.tree.countLess(m), s.tree.kth)
}

// KthDeviation returns the k-th smallest (0-based) of |x - m| over n
// sorted values, at(i) being the i-th smallest and c the number below m,
// in O(log n) reads: the values below m, read from m downwards, give one
// ascending list of deviations (A); those from m upwards give another
// (B); the k-th smallest of their union is found by binary search on how
// many come from A. Sliding medians use it for the MAD.
func KthDeviation(m float64, k, n, c int, at func(i int) float64) float64 {
	nA, nB := c, n-c
	a := func(i int) float64 { return m - at(c-1-i) }
	b := func(j int) float64 { return at(c+j) - m }
	lo, hi := max(0, k+1-nB), min(k+1, nA)
	for lo < hi {
		i := (lo + hi) / 2 // take i from A and k+1-i from B
		if j := k + 1 - i; j > 0 && a(i) < b(j-1) {
			lo = i + 1
		} else {
			hi = i
		}
	}
	i, j := lo, k+1-lo
	d := math.Inf(-1)
	if i > 0 {
		d = a(i - 1)
	}
	if j > 0 {
		d = max(d, b(j-1))
	}
	return d
}

// ostree is a treap ordered by (key, seq) with subtree sizes. Nodes live in
// one slice and refer to each other by index (0 is nil), so the structure
// allocates only when it grows and holds no pointers for the GC to trace.
type ostree struct {
	nodes []tnode
	free  []int32
	root  int32
	rng   uint64 // xorshift state for priorities; per tree, no globals
}

type tnode struct {
	key         float64
	seq         uint64
	prio        uint64
	left, right int32
	size        int32
}

func newOSTree(capacity int) ostree {
	t := ostree{nodes: make([]tnode, 1, capacity+1), rng: 0x9e3779b97f4a7c15}
	return t
}

func (t *ostree) reset() {
	t.nodes = t.nodes[:1]
	t.free = t.free[:0]
	t.root = 0
}

func (t *ostree) size(i int32) int {
	if i == 0 {
		return 0
	}
	return int(t.nodes[i].size)
}

func (t *ostree) update(i int32) {
	n := &t.nodes[i]
	n.size = int32(1 + t.size(n.left) + t.size(n.right))
}

func less(k1 float64, s1 uint64, k2 float64, s2 uint64) bool {
	return k1 < k2 || (k1 == k2 && s1 < s2)
}

// split divides subtree i into nodes ordered before (key, seq) and the rest.
func (t *ostree) split(i int32, key float64, seq uint64) (int32, int32) {
	if i == 0 {
		return 0, 0
	}
	n := &t.nodes[i]
	if less(n.key, n.seq, key, seq) {
		l, r := t.split(n.right, key, seq)
		t.nodes[i].right = l
		t.update(i)
		return i, r
	}
	l, r := t.split(n.left, key, seq)
	t.nodes[i].left = r
	t.update(i)
	return l, i
}

// merge joins two subtrees where every node of l orders before every node of r.
func (t *ostree) merge(l, r int32) int32 {
	if l == 0 {
		return r
	}
	if r == 0 {
		return l
	}
	if t.nodes[l].prio > t.nodes[r].prio {
		t.nodes[l].right = t.merge(t.nodes[l].right, r)
		t.update(l)
		return l
	}
	t.nodes[r].left = t.merge(l, t.nodes[r].left)
	t.update(r)
	return r
}

func (t *ostree) insert(key float64, seq uint64) {
	t.rng ^= t.rng << 13
	t.rng ^= t.rng >> 7
	t.rng ^= t.rng << 17
	n := tnode{key: key, seq: seq, prio: t.rng, size: 1}
	var id int32
	if k := len(t.free); k > 0 {
		id = t.free[k-1]
		t.free = t.free[:k-1]
		t.nodes[id] = n
	} else {
		id = int32(len(t.nodes))
		t.nodes = append(t.nodes, n)
	}
	l, r := t.split(t.root, key, seq)
	t.root = t.merge(t.merge(l, id), r)
}

func (t *ostree) remove(key float64, seq uint64) {
	l, r := t.split(t.root, key, seq)
	m, r := t.split(r, key, seq+1) // seq is unique, so m is the one node
	if m != 0 {
		t.free = append(t.free, m)
	}
	t.root = t.merge(l, r)
}

// kth returns the k-th smallest key, 0-based; k must be < size(root).
func (t *ostree) kth(k int) float64 {
	i := t.root
	for {
		n := &t.nodes[i]
		ls := t.size(n.left)
		switch {
		case k < ls:
			i = n.left
		case k == ls:
			return n.key
		default:
			k -= ls + 1
			i = n.right
		}
	}
}

// countLess returns how many keys are < x.
func (t *ostree) countLess(x float64) int {
	c := 0
	for i := t.root; i != 0; {
		n := &t.nodes[i]
		if n.key < x {
			c += t.size(n.left) + 1
			i = n.right
		} else {
			i = n.left
		}
	}
	return c
}
