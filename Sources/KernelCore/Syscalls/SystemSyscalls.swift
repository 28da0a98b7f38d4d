// SystemSyscalls — uname, sysinfo, getrandom (KernelCore layer).
//
// uname(2) reports Linux so C libraries take their Linux paths; the release names a kernel
// new enough for every feature test glibc and Go make at start-up. getrandom(2) never
// blocks: the pool is seeded at boot (GRND_NONBLOCK/GRND_RANDOM/GRND_INSECURE accepted).
import LinuxABI

enum SystemSyscalls {
    public static let release: [UInt8] = Array("6.1.0-egg".utf8)
    public static let version: [UInt8] = Array("#1 SMP egg".utf8)

    static func uname(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var w = ByteWriter()
        w.field(Array("Linux".utf8), size: 65)
        w.field(k.hostname, size: 65)
        w.field(release, size: 65)
        w.field(version, size: 65)
        w.field(Array("x86_64".utf8), size: 65)
        w.field(k.domainname, size: 65)
        if let e = k.memory.copyOut(a.address(0), from: w.bytes) { throw e }
        return 0
    }

    /// struct sysinfo (include/uapi/linux/sysinfo.h), 112 bytes on x86-64, mem_unit 1.
    static func sysinfo(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var w = ByteWriter()
        w.i64(Int64(k.platform.monotonicNanoseconds() / 1_000_000_000))  // uptime
        w.u64(0); w.u64(0); w.u64(0)                    // loads
        w.u64(k.frames.totalBytes)                      // totalram
        w.u64(k.frames.freeBytes)                       // freeram
        w.u64(0); w.u64(0)                              // sharedram, bufferram
        w.u64(0); w.u64(0)                              // totalswap, freeswap
        w.u16(1)                                        // procs
        w.u16(0); w.u32(0)                              // pad
        w.u64(0); w.u64(0)                              // totalhigh, freehigh
        w.u32(1)                                        // mem_unit
        w.zeros(112 - w.bytes.count)
        if let e = k.memory.copyOut(a.address(0), from: w.bytes) { throw e }
        return 0
    }

    static func getrandom(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[2] & ~UInt64(0x7) == 0 else { throw .EINVAL }
        let count = min(a.size(1), 1 << 25)
        guard count >= 0 else { throw .EINVAL }
        var buffer = [UInt8](repeating: 0, count: min(count, 4096))
        var done = 0
        while done < count {
            let n = min(4096, count - done)
            k.platform.fillRandom(&buffer, count: n)
            if let e = k.memory.copyOut(a.address(0).advanced(by: done), from: buffer, count: n) {
                if done > 0 { return done } else { throw e }
            }
            done += n
        }
        return done
    }
}
