// exec.go — Go's os/exec inside one egg guest (issue 16): the program runs itself
// (/proc/self/exe) as a child, reads the child's standard output through a pipe, passes an
// environment variable and gets the child's exit status back. Go 1.19 starts children with
// clone(CLONE_VFORK|CLONE_VM) and execve. Prints "PASS exec" or "FAIL exec: why".
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "child" {
		if os.Args[2] == "exit" {
			os.Exit(5)
		}
		fmt.Printf("child got %s and %s\n", os.Args[2], os.Getenv("EXEC_GO_VALUE"))
		return
	}
	cmd := exec.Command("/proc/self/exe", "child", "hello")
	cmd.Env = []string{"EXEC_GO_VALUE=xyz"}
	out, err := cmd.Output()
	if err != nil {
		fail("running the child: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "child got hello and xyz" {
		fail("child wrote %q", got)
	}
	err = exec.Command("/proc/self/exe", "child", "exit").Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 5 {
		fail("child exit status: %v", err)
	}
	if _, err := exec.Command("/nonexistent/program").Output(); err == nil {
		fail("a missing program ran")
	}
	fmt.Println("PASS exec")
}

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL exec: "+format+"\n", args...)
	os.Exit(1)
}
