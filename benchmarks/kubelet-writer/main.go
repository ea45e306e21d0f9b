// Command kubelet-writer-bench drives kubelet's own atomic writer (k8s.io/kubernetes/pkg/volume/util
// of Kubernetes v1.37.2, which writes Secret, ConfigMap and projected volumes) the way
// benchmarks' WriterLoop drives Keyturn's, with the same work around the writer: a volume of 10
// files of 4 KiB on the directory it is given, 26 payloads (one letter each) built before any
// timing, a swap to the next payload, and a write of the payload already there. It prints one
// line per measured iteration:
//
//	kubelet-writer <swapChanged|unchangedCheck> <operations per second> <CPU microseconds per operation>
//
// The CPU is the process's (user and system, every thread) over the iteration.
//
// Usage: kubelet-writer-bench <dir> <seconds per iteration> <warm-up iterations> <iterations>
//
// build.sh compiles it against k8s.io/kubernetes v1.37.2 from the Go module proxy (the module of
// tools/kubernetes/v1.37.2); it is not part of Keyturn.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	volumeutil "k8s.io/kubernetes/pkg/volume/util"
)

const (
	files     = 10
	fileBytes = 4096
	payloads  = 26
)

// payload is generation n's content: every file filled with one letter, as Volumes.payload does.
func payload(n int) map[string]volumeutil.FileProjection {
	p := make(map[string]volumeutil.FileProjection, files)
	for i := 0; i < files; i++ {
		data := make([]byte, fileBytes)
		for j := range data {
			data[j] = byte('a' + n%payloads)
		}
		p[fmt.Sprintf("secret-%d", i)] = volumeutil.FileProjection{Data: data, Mode: 0644}
	}
	return p
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kubelet-writer-bench: "+format+"\n", args...)
	os.Exit(1)
}

// cpu is the process's user and system time so far.
func cpu() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		fail("getrusage: %v", err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
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
	ring := make([]map[string]volumeutil.FileProjection, payloads)
	for n := range ring {
		ring[n] = payload(n)
	}
	write := func(p map[string]volumeutil.FileProjection) {
		// kubelet passes a function that sets ownership for fsGroup; there is none here.
		if err := writer.Write(p, nil); err != nil {
			fail("write: %v", err)
		}
	}
	var generation int
	operations := map[string]func(){
		"swapChanged": func() {
			generation++
			write(ring[generation%payloads])
		},
		"unchangedCheck": func() {
			write(ring[0])
		},
	}
	for _, name := range []string{"swapChanged", "unchangedCheck"} {
		operation := operations[name]
		for i := 0; i < warmups+iterations; i++ {
			// Each iteration starts from payload 0, as WriterLoop's do.
			write(ring[0])
			generation = 0
			count := 0
			startCPU := cpu()
			start := time.Now()
			deadline := start.Add(time.Duration(seconds) * time.Second)
			for time.Now().Before(deadline) {
				operation()
				count++
			}
			elapsed := time.Since(start)
			used := cpu() - startCPU
			if i >= warmups {
				fmt.Printf("kubelet-writer %s %.1f %.1f\n", name, float64(count)/elapsed.Seconds(),
					float64(used.Microseconds())/float64(count))
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
		fail("secret-0 does not hold payload 0's content after the run: %v", err)
	}
}
