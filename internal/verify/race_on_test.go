//go:build race

package verify

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// pooled buffers allocate now and then.
const raceEnabled = true
