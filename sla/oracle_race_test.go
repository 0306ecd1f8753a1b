//go:build race

package sla

// The oracle is single-threaded, so the race detector finds nothing in it
// and only makes it slower: run fewer random cases under -race.
func init() { oracleRaceDivisor = 4 }
