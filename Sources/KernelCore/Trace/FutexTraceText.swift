// FutexTraceText — strace's decoding of the futex2 calls futex_wake, futex_wait and
// futex_requeue (Linux 6.7) (KernelCore/Trace). An extension of SyscallTraceFormatter
// (SyscallTraceFormatter.swift dispatches here; futex(2) itself is decoded there). The
// shapes follow strace 6.7's src/futex2.c:
//   futex_wake(0x4c3f20, 0xffffffff, 1, FUTEX2_SIZE_U32|FUTEX2_PRIVATE) = 0
//   futex_wait(0x4c3f20, 0, 0x1, FUTEX2_SIZE_U32, {tv_sec=5, tv_nsec=0}, CLOCK_MONOTONIC) = 0
//   futex_requeue([{val=0, uaddr=0x4c3f20, flags=FUTEX2_SIZE_U32}, {val=0, uaddr=0x4c3f24,
//                  flags=FUTEX2_SIZE_U32}], 0, 0, 1) = 1
import LinuxABI

extension SyscallTraceFormatter {
    /// The arguments of futex_wake / futex_wait / futex_requeue, or nil for other calls.
    func futex2Arguments(_ a: SyscallArguments, memory: AddressSpace) -> String? {
        switch SyscallNumber(a.number) {
        case .futex_wake:
            return hexString(a[0]) + ", " + hexString(a[1]) + ", " + decimalString(Int64(a.int32(2))) + ", "
                + futex2FlagsText(a.uint32(3))
        case .futex_wait:
            let timeout = a[4] == 0 ? "NULL" : inputValue(a[4], count: 16, memory: memory) { TraceText.timespec($0) }
            return hexString(a[0]) + ", " + unsignedDecimalString(a[1]) + ", " + hexString(a[2]) + ", "
                + futex2FlagsText(a.uint32(3)) + ", " + timeout + ", " + ClockId(a.uint32(5)).straceDescription
        case .futex_requeue:
            let waiters = inputValue(a[0], count: 48, memory: memory) { b in
                let r = ByteReader(b)
                var text = "["
                for i in 0..<2 {
                    if i > 0 { text += ", " }
                    text += "{val=" + unsignedDecimalString(r.u64(i * 24)) + ", uaddr=" + hexString(r.u64(i * 24 + 8))
                        + ", flags=" + futex2FlagsText(r.u32(i * 24 + 16))
                    if r.u32(i * 24 + 20) != 0 { text += ", __reserved=" + hexString(UInt64(r.u32(i * 24 + 20))) }
                    text += "}"
                }
                return text + "]"
            }
            return waiters + ", " + hexString(UInt64(a.uint32(1))) + ", " + decimalString(Int64(a.int32(2))) + ", "
                + decimalString(Int64(a.int32(3)))
        default:
            return nil
        }
    }

    /// FUTEX2_SIZE_U8/U16/U32/U64 (low two bits), then FUTEX2_NUMA, FUTEX2_PRIVATE, and any
    /// other bits in hex (include/uapi/linux/futex.h).
    func futex2FlagsText(_ flags: UInt32) -> String {
        let sizes = ["FUTEX2_SIZE_U8", "FUTEX2_SIZE_U16", "FUTEX2_SIZE_U32", "FUTEX2_SIZE_U64"]
        var text = sizes[Int(flags & 3)]
        if flags & 4 != 0 { text += "|FUTEX2_NUMA" }
        if flags & 128 != 0 { text += "|FUTEX2_PRIVATE" }
        let rest = flags & ~UInt32(3 | 4 | 128)
        if rest != 0 { text += "|" + hexString(UInt64(rest)) }
        return text
    }
}
