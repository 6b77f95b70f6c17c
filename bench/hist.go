package main

import (
	"math/bits"
	"time"
)

// histSub is the number of sub-buckets per power of two: values are kept
// with a relative error under 1/histSub (< 0.8%), as HdrHistogram does with
// two significant digits, in a fixed array that never allocates.
const histSub = 128

// hist is a log-linear latency histogram in nanoseconds.
type hist struct {
	counts [64 * histSub]uint64
	n      uint64
	max    int64
}

func histIndex(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - 8 // v>>shift is in [128, 256)
	return (shift+1)*histSub + int(v>>shift) - histSub
}

// histValue is the midpoint of the values bucket i holds.
func histValue(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := i/histSub - 1
	low := uint64(i%histSub+histSub) << shift
	return int64(low + (uint64(1)<<shift)/2)
}

func (h *hist) record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[histIndex(uint64(v))]++
	h.n++
	h.max = max(h.max, v)
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the latency below which a fraction q of the samples lie.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return time.Duration(min(histValue(i), h.max))
		}
	}
	return time.Duration(h.max)
}
