package memory

import (
	"encoding/binary"
	"math/bits"
)

// An arena holds byte strings of many sizes in few large allocations of
// pointer-free memory, which the garbage collector never scans: a record's
// key, strings and data live in one block of it, found by a ref.
//
// A block's size is its length rounded up to a size class: multiples of 16
// up to 1 KiB, then eight classes per doubling up to maxBlock, so at most
// an eighth of a block is slack. Blocks are carved from pages of up to
// maxPage bytes; a freed block goes on its class's free list, threaded
// through the first eight bytes of the free blocks, and the next block of
// that class reuses it. A block longer than maxBlock gets an allocation of
// its own, in large.
//
// An arena is not safe for concurrent use; its owner's lock guards it.
type arena struct {
	pages [][]byte // pointer per page, never per block
	used  int      // bytes of the last page handed out
	free  [numClasses]uint64

	large     [][]byte // blocks longer than maxBlock; nil where free
	largeFree []uint32 // free indexes of large

	total int // bytes of every page and large block
	live  int // bytes of the blocks handed out and not freed
}

const (
	minPage  = 1 << 10
	maxPage  = 64 << 10
	maxBlock = 16 << 10

	// smallClasses are the classes up to 1 KiB, 16 bytes apart.
	smallClasses = 64
	// numClasses counts them with eight per doubling from 1 KiB to
	// maxBlock.
	numClasses = smallClasses + 8*(14-10)

	// noRef is the ref of an empty byte string, which takes no block.
	noRef = ^uint64(0)
	// largeRef marks the ref of a block in large: the rest is its index.
	largeRef = 1 << 63
)

// classOf returns the size class of a block for n bytes, 0 < n <= maxBlock.
func classOf(n int) int {
	if n <= 1024 {
		return (n+15)/16 - 1
	}
	b := bits.Len(uint(n - 1)) // 2^(b-1) < n <= 2^b
	step := 1 << (b - 4)
	return smallClasses + (b-11)*8 + (n+step-1)/step - 9
}

// classSize returns the size of the blocks of class c.
func classSize(c int) int {
	if c < smallClasses {
		return (c + 1) * 16
	}
	c -= smallClasses
	b := c/8 + 11
	return (c%8 + 9) << (b - 4)
}

// blockSize returns how many bytes of the arena a byte string of n bytes
// takes.
func blockSize(n int) int {
	switch {
	case n == 0:
		return 0
	case n > maxBlock:
		return n
	}
	return classSize(classOf(n))
}

// alloc returns the ref of a new block for n bytes.
func (a *arena) alloc(n int) uint64 {
	switch {
	case n == 0:
		return noRef
	case n > maxBlock:
		a.total += n
		a.live += n
		b := make([]byte, n)
		if k := len(a.largeFree); k > 0 {
			i := a.largeFree[k-1]
			a.largeFree = a.largeFree[:k-1]
			a.large[i] = b
			return largeRef | uint64(i)
		}
		a.large = append(a.large, b)
		return largeRef | uint64(len(a.large)-1)
	}
	c := classOf(n)
	size := classSize(c)
	a.live += size
	if head := a.free[c]; head != 0 {
		ref := head - 1
		a.free[c] = binary.LittleEndian.Uint64(a.block(ref, 8))
		return ref
	}
	if len(a.pages) == 0 || len(a.pages[len(a.pages)-1])-a.used < size {
		a.newPage(size)
	}
	ref := uint64(len(a.pages)-1)<<32 | uint64(a.used)
	a.used += size
	return ref
}

// newPage starts a page with room for at least size bytes, twice as long
// as the last up to maxPage, and puts what is left of the last one on the
// free lists.
func (a *arena) newPage(size int) {
	n := minPage
	if k := len(a.pages); k > 0 {
		last := a.pages[k-1]
		for rest := len(last) - a.used; rest >= 16; rest = len(last) - a.used {
			c := classOf(rest)
			if classSize(c) > rest {
				c--
			}
			ref := uint64(k-1)<<32 | uint64(a.used)
			a.used += classSize(c)
			a.push(c, ref)
		}
		n = min(2*len(last), maxPage)
	}
	n = max(n, size)
	a.pages = append(a.pages, make([]byte, n))
	a.used = 0
	a.total += n
}

// push puts the block ref of class c on its free list.
func (a *arena) push(c int, ref uint64) {
	binary.LittleEndian.PutUint64(a.block(ref, 8), a.free[c])
	a.free[c] = ref + 1
}

// release frees the block ref, which holds n bytes.
func (a *arena) release(ref uint64, n int) {
	switch {
	case ref == noRef:
	case ref&largeRef != 0:
		i := uint32(ref &^ largeRef)
		a.total -= len(a.large[i])
		a.live -= len(a.large[i])
		a.large[i] = nil
		a.largeFree = append(a.largeFree, i)
	default:
		c := classOf(n)
		a.live -= classSize(c)
		a.push(c, ref)
	}
}

// block returns the n bytes of the block ref.
func (a *arena) block(ref uint64, n int) []byte {
	switch {
	case ref == noRef:
		return nil
	case ref&largeRef != 0:
		return a.large[ref&^largeRef][:n]
	}
	off := int(uint32(ref))
	return a.pages[ref>>32][off : off+n : off+n]
}

// resize returns the ref of a block for n bytes in place of ref, which
// holds old bytes: ref itself when its size suits n, a new block
// otherwise, into which it copies the first keep bytes of the old one
// before freeing it.
func (a *arena) resize(ref uint64, old, n, keep int) uint64 {
	if ref != noRef && ref&largeRef == 0 && n > 0 && n <= maxBlock && classOf(n) == classOf(old) {
		return ref
	}
	next := a.alloc(n)
	copy(a.block(next, n), a.block(ref, old)[:keep])
	a.release(ref, old)
	return next
}

// wasteful reports whether the arena holds so much freed space that its
// owner should copy what is live into a new one.
func (a *arena) wasteful() bool {
	return a.total >= 2*maxPage && a.live < a.total/4
}
