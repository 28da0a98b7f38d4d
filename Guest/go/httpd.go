// httpd.go — the httpd guest in Go: net/http on Go's own runtime poller (epoll, non-blocking
// sockets, threads), built static with CGO_ENABLED=0. Layer: guest programs;
// Tests/integration/net.sh drives it beside Guest/c/httpd.c and Guest/swift/httpd.swift.
//
// Usage: httpd-go PORT. GET / answers "hello from httpd\n", GET /exit answers "bye\n" and
// exits 0 with "PASS httpd-go: N requests", anything else is 404. Prints
// "httpd-go: listening on port N" when ready.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: httpd-go PORT")
		os.Exit(2)
	}
	port, err := strconv.Atoi(os.Args[1])
	if err != nil || port <= 0 || port > 65535 {
		fmt.Fprintln(os.Stderr, "usage: httpd-go PORT")
		os.Exit(2)
	}
	var requests int64
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt64(&requests, 1)
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("hello from httpd\n"))
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt64(&requests, 1)
		w.Header().Set("Connection", "close")
		w.Write([]byte("bye\n"))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		close(done)
	})
	listener, err := net.Listen("tcp4", fmt.Sprintf(":%d", port))
	if err != nil {
		fmt.Printf("FAIL httpd-go: listen: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("httpd-go: listening on port %d\n", port)
	go func() {
		if err := http.Serve(listener, mux); err != nil {
			fmt.Printf("FAIL httpd-go: serve: %v\n", err)
			os.Exit(1)
		}
	}()
	<-done
	fmt.Printf("PASS httpd-go: %d requests\n", atomic.LoadInt64(&requests))
}
