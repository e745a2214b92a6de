package analytics

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestDbg(t *testing.T) {
	for _, n := range []int{9, 12, 16, 20, 24, 30, 40, 60} {
		hist := map[int]int{}
		for seed := range 2000 {
			r := rand.New(rand.NewPCG(uint64(seed), 9))
			hist[DetectPeriod(noise(r, n, 1))]++
		}
		fmt.Println(n, hist)
	}
}
