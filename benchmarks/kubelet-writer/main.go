// Command kubelet-writer-bench drives kubelet's own atomic writer (k8s.io/kubernetes/pkg/volume/util,
// which writes Secret, ConfigMap and projected volumes) the way benchmarks' WriterBenchmark drives
// Keyturn's: a volume of 10 files of 4 KiB on the directory it is given, a swap with new content in
// every file, and a write of the payload already there. It prints one line per measured iteration:
//
//	kubelet-writer <swapChanged|unchangedCheck> <operations per second>
//
// Usage: kubelet-writer-bench <dir> <seconds per iteration> <warm-up iterations> <iterations>
//
// build.sh compiles it inside Debian's kubernetes source tree (v1.20.2), the tree the real API
// server and kubelet of tools/ are built from; it is not part of Keyturn.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	volumeutil "k8s.io/kubernetes/pkg/volume/util"
)

const (
	files     = 10
	fileBytes = 4096
)

// payload is generation n's content: every file filled with one letter, as Volumes.payload does.
func payload(n int64) map[string]volumeutil.FileProjection {
	p := make(map[string]volumeutil.FileProjection, files)
	for i := 0; i < files; i++ {
		data := make([]byte, fileBytes)
		for j := range data {
			data[j] = byte('a' + n%26)
		}
		p[fmt.Sprintf("secret-%d", i)] = volumeutil.FileProjection{Data: data, Mode: 0644}
	}
	return p
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kubelet-writer-bench: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 5 {
		fail("usage: kubelet-writer-bench <dir> <seconds per iteration> <warm-up iterations> <iterations>")
	}
	seconds, err1 := strconv.Atoi(os.Args[2])
	warmups, err2 := strconv.Atoi(os.Args[3])
	iterations, err3 := strconv.Atoi(os.Args[4])
	if err1 != nil || err2 != nil || err3 != nil || seconds < 1 || warmups < 0 || iterations < 1 {
		fail("seconds, warm-up iterations and iterations are whole numbers (seconds and iterations at least 1)")
	}
	target := filepath.Join(os.Args[1], "volume")
	if err := os.MkdirAll(target, 0755); err != nil {
		fail("%v", err)
	}
	writer, err := volumeutil.NewAtomicWriter(target, "kubelet-writer-bench")
	if err != nil {
		fail("%v", err)
	}
	unchanged := payload(0)
	var generation int64
	operations := map[string]func(){
		"swapChanged": func() {
			generation++
			if err := writer.Write(payload(generation)); err != nil {
				fail("swap: %v", err)
			}
		},
		"unchangedCheck": func() {
			if err := writer.Write(unchanged); err != nil {
				fail("unchanged write: %v", err)
			}
		},
	}
	for _, name := range []string{"swapChanged", "unchangedCheck"} {
		operation := operations[name]
		for i := 0; i < warmups+iterations; i++ {
			// Each iteration starts from the unchanged payload, as WriterBenchmark's do.
			if err := writer.Write(unchanged); err != nil {
				fail("reset: %v", err)
			}
			generation = 0
			count := 0
			start := time.Now()
			deadline := start.Add(time.Duration(seconds) * time.Second)
			for time.Now().Before(deadline) {
				operation()
				count++
			}
			if i >= warmups {
				fmt.Printf("kubelet-writer %s %.1f\n", name, float64(count)/time.Since(start).Seconds())
			}
		}
	}
	// The swaps must have left exactly one payload and its links: the check that the numbers above
	// measured real writes.
	entries, err := os.ReadDir(target)
	if err != nil {
		fail("%v", err)
	}
	if len(entries) != files+2 {
		fail("the volume holds %d entries after the run, not %d", len(entries), files+2)
	}
	got, err := os.ReadFile(filepath.Join(target, "secret-0"))
	if err != nil || len(got) != fileBytes || got[0] != 'a' {
		fail("secret-0 does not hold generation 0's content after the run: %v", err)
	}
}
