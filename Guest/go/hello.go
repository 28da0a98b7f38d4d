// hello.go — the smallest Go guest (CGO_ENABLED=0, static). Prints one line.
package main

import "fmt"

func main() {
	fmt.Println("hello from egg")
}
