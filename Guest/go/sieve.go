// sieve.go — the concurrent prime sieve from the eggos examples (and the Go tour), with
// goroutines and channels, plus a mutex counter across goroutines and a busy loop long
// enough that the runtime's asynchronous preemption (SIGURG via tgkill) must work. Built
// with CGO_ENABLED=0 (a static binary). Prints one verdict line.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

func generate(ch chan<- int) {
	for i := 2; ; i++ {
		ch <- i
	}
}

func filter(in <-chan int, out chan<- int, prime int) {
	for {
		if i := <-in; i%prime != 0 {
			out <- i
		}
	}
}

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL sieve: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	ch := make(chan int)
	go generate(ch)
	primes := make([]int, 0, 100)
	for i := 0; i < 100; i++ {
		p := <-ch
		primes = append(primes, p)
		next := make(chan int)
		go filter(ch, next, p)
		ch = next
	}
	if primes[0] != 2 || primes[99] != 541 {
		fail("primes %v", primes)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10000; j++ {
				mu.Lock()
				total++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if total != 80000 {
		fail("total %d", total)
	}

	// A goroutine spinning without function calls can only be stopped by async preemption.
	done := make(chan bool)
	go func() {
		x := 0
		for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
			x++
		}
		done <- x > 0
	}()
	time.Sleep(10 * time.Millisecond)
	if !<-done {
		fail("spinner")
	}
	fmt.Println("PASS sieve: 100 primes, 8 goroutines x 10000, preemption")
}
