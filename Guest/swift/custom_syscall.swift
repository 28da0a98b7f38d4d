// custom_syscall.swift — the Swift twin of Guest/c/custom_syscall.c: calls the custom system
// call 500 and the wrapped uname of Guest/syscalls/MySyscalls.swift. Passes on stock Linux
// and a stock egg kernel (ENOSYS: custom part skipped); under
// `egg run --syscalls Guest/syscalls/MySyscalls.swift -e EGG_CUSTOM=1` the custom results
// must match. Built with swiftc -static-executable (glibc).
// Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.
import Glibc

// syscall(2) is variadic, which Swift does not import; with integer arguments only the
// x86-64 calling convention of the variadic function is the same as this declaration's.
@_silgen_name("syscall")
func rawSyscall(_ number: Int, _ a0: Int, _ a1: Int, _ a2: Int) -> Int

func verdict(_ line: String) -> Never {
    print(line)
    exit(line.hasPrefix("PASS") ? 0 : 1)
}

@main
struct CustomSyscall {
    static func main() {
        let expectCustom = getenv("EGG_CUSTOM").map { String(cString: $0) } == "1"
        var buffer = [UInt8](repeating: 0x78, count: 64)
        let r = buffer.withUnsafeMutableBytes { raw in
            rawSyscall(500, Int(bitPattern: raw.baseAddress), raw.count, 7)
        }
        let savedErrno = errno

        var u = utsname()
        guard uname(&u) == 0 else { verdict("FAIL custom_syscall-swift: uname failed") }
        let version = withUnsafeBytes(of: &u.version) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        let customUname = version == "#1 egg with custom syscalls"

        if r == -1 && savedErrno == ENOSYS {
            if expectCustom { verdict("FAIL custom_syscall-swift: EGG_CUSTOM=1 but syscall 500 is ENOSYS") }
            if customUname { verdict("FAIL custom_syscall-swift: custom uname without syscall 500") }
            verdict("PASS custom_syscall-swift: syscall 500 is ENOSYS: stock kernel, custom part skipped")
        }
        let greeting = "hello from a Swift syscall"
        let text = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        guard r == greeting.utf8.count + 7000 else { verdict("FAIL custom_syscall-swift: syscall 500 returned \(r) (errno \(savedErrno))") }
        guard text == greeting else { verdict("FAIL custom_syscall-swift: buffer holds \"\(text)\"") }
        guard customUname else { verdict("FAIL custom_syscall-swift: uname version is \"\(version)\"") }
        verdict("PASS custom_syscall-swift: custom syscall 500 and wrapped uname")
    }
}
