// SystemStructs — x86-64 layouts of the time, resource and system-information structures
// (LinuxABI layer): timespec, timeval, rlimit, utsname, sysinfo, rusage, tms.
// Layouts from include/uapi/linux/time_types.h (__kernel_timespec), include/uapi/linux/time.h,
// include/uapi/linux/resource.h, include/uapi/linux/utsname.h (new_utsname),
// include/uapi/linux/sysinfo.h, include/uapi/linux/times.h; sizes checked against glibc's
// headers on x86-64 (see Tests/LinuxABITests). Encoding helpers are in ByteCoding.swift.

/// struct timespec / __kernel_timespec: 16 bytes.
public struct Timespec: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var seconds: Int64
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// From a nanosecond count (non-negative).
    public init(totalNanoseconds: UInt64) {
        seconds = Int64(totalNanoseconds / 1_000_000_000)
        nanoseconds = Int64(totalNanoseconds % 1_000_000_000)
    }

    /// utimensat(2) special tv_nsec values.
    public static let UTIME_NOW: Int64 = (1 << 30) - 1
    public static let UTIME_OMIT: Int64 = (1 << 30) - 2

    /// What nanosleep(2) and friends accept; anything else is EINVAL.
    public var isValid: Bool { seconds >= 0 && nanoseconds >= 0 && nanoseconds < 1_000_000_000 }

    /// The duration in nanoseconds, saturating at UInt64.max; nil when not `isValid`.
    public var totalNanoseconds: UInt64? {
        guard isValid else { return nil }
        let (product, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return UInt64.max }
        let (sum, overflow2) = product.addingReportingOverflow(UInt64(nanoseconds))
        return overflow2 ? UInt64.max : sum
    }

    public static let byteSize = 16
    public func encode(into writer: inout ByteWriter) {
        writer.i64(seconds)
        writer.i64(nanoseconds)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> Timespec {
        Timespec(seconds: try reader.i64(), nanoseconds: try reader.i64())
    }
}

/// struct timeval: 16 bytes.
public struct Timeval: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var seconds: Int64
    public var microseconds: Int64

    public init(seconds: Int64, microseconds: Int64) {
        self.seconds = seconds
        self.microseconds = microseconds
    }

    public init(totalNanoseconds: UInt64) {
        seconds = Int64(totalNanoseconds / 1_000_000_000)
        microseconds = Int64(totalNanoseconds % 1_000_000_000 / 1_000)
    }

    public static let byteSize = 16
    public func encode(into writer: inout ByteWriter) {
        writer.i64(seconds)
        writer.i64(microseconds)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> Timeval {
        Timeval(seconds: try reader.i64(), microseconds: try reader.i64())
    }
}

/// struct rlimit / rlimit64: 16 bytes. RLIM_INFINITY is in ProcessConstants.swift.
public struct Rlimit: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var current: UInt64
    public var maximum: UInt64

    public init(current: UInt64, maximum: UInt64) {
        self.current = current
        self.maximum = maximum
    }

    public static let byteSize = 16
    public func encode(into writer: inout ByteWriter) {
        writer.u64(current)
        writer.u64(maximum)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> Rlimit {
        Rlimit(current: try reader.u64(), maximum: try reader.u64())
    }
}

/// struct new_utsname as uname(2) fills it: six NUL-terminated 65-byte fields, 390 bytes.
public struct Utsname: KernelStructEncodable, Equatable, Sendable {
    public var sysname: String
    public var nodename: String
    public var release: String
    public var version: String
    public var machine: String
    public var domainname: String

    public init(sysname: String = "Linux", nodename: String, release: String, version: String,
                machine: String = "x86_64", domainname: String = "(none)") {
        self.sysname = sysname
        self.nodename = nodename
        self.release = release
        self.version = version
        self.machine = machine
        self.domainname = domainname
    }

    /// __NEW_UTS_LEN + 1.
    public static let fieldLength = 65
    public static let byteSize = 6 * 65
    public func encode(into writer: inout ByteWriter) {
        for field in [sysname, nodename, release, version, machine, domainname] {
            writer.fixedString(field, length: Utsname.fieldLength)
        }
    }
}

/// struct sysinfo on x86-64: 112 bytes (the _f padding is empty for 64-bit longs, the
/// structure is padded to 8 after mem_unit).
public struct Sysinfo: KernelStructEncodable, Equatable, Sendable {
    public var uptime: Int64 = 0
    /// 1, 5 and 15 minute load averages, fixed point with 16 fractional bits (SI_LOAD_SHIFT).
    public var loads: (UInt64, UInt64, UInt64) = (0, 0, 0)
    public var totalram: UInt64 = 0
    public var freeram: UInt64 = 0
    public var sharedram: UInt64 = 0
    public var bufferram: UInt64 = 0
    public var totalswap: UInt64 = 0
    public var freeswap: UInt64 = 0
    public var procs: UInt16 = 0
    public var totalhigh: UInt64 = 0
    public var freehigh: UInt64 = 0
    public var memUnit: UInt32 = 1

    public init() {}

    public static func == (a: Sysinfo, b: Sysinfo) -> Bool { a.encode() == b.encode() }

    public static let byteSize = 112
    public func encode(into writer: inout ByteWriter) {
        writer.i64(uptime)
        writer.u64(loads.0)
        writer.u64(loads.1)
        writer.u64(loads.2)
        writer.u64(totalram)
        writer.u64(freeram)
        writer.u64(sharedram)
        writer.u64(bufferram)
        writer.u64(totalswap)
        writer.u64(freeswap)
        writer.u16(procs)
        writer.zeros(6)  // pad, then alignment of totalhigh
        writer.u64(totalhigh)
        writer.u64(freehigh)
        writer.u32(memUnit)
        writer.zeros(4)  // tail padding to 8
    }
}

/// struct rusage: two timevals and fourteen longs, 144 bytes.
public struct Rusage: KernelStructEncodable, Equatable, Sendable {
    public var userTime = Timeval(seconds: 0, microseconds: 0)
    public var systemTime = Timeval(seconds: 0, microseconds: 0)
    /// ru_maxrss (KiB), ru_ixrss, ru_idrss, ru_isrss, ru_minflt, ru_majflt, ru_nswap,
    /// ru_inblock, ru_oublock, ru_msgsnd, ru_msgrcv, ru_nsignals, ru_nvcsw, ru_nivcsw.
    public var counters: [Int64] = Array(repeating: 0, count: 14)

    public init() {}

    public var maxrss: Int64 { get { counters[0] } set { counters[0] = newValue } }
    public var minflt: Int64 { get { counters[4] } set { counters[4] = newValue } }
    public var majflt: Int64 { get { counters[5] } set { counters[5] = newValue } }
    public var nvcsw: Int64 { get { counters[12] } set { counters[12] = newValue } }
    public var nivcsw: Int64 { get { counters[13] } set { counters[13] = newValue } }

    /// getrusage(2) `who`.
    public static let RUSAGE_SELF: Int32 = 0
    public static let RUSAGE_CHILDREN: Int32 = -1
    public static let RUSAGE_THREAD: Int32 = 1

    public static let byteSize = 144
    public func encode(into writer: inout ByteWriter) {
        userTime.encode(into: &writer)
        systemTime.encode(into: &writer)
        for index in 0..<14 { writer.i64(index < counters.count ? counters[index] : 0) }
    }
}

/// struct tms (times(2)): four clock_t in USER_HZ ticks, 32 bytes.
public struct Tms: KernelStructEncodable, Equatable, Sendable {
    public var userTime: Int64
    public var systemTime: Int64
    public var childrenUserTime: Int64
    public var childrenSystemTime: Int64

    public init(userTime: Int64 = 0, systemTime: Int64 = 0, childrenUserTime: Int64 = 0,
                childrenSystemTime: Int64 = 0) {
        self.userTime = userTime
        self.systemTime = systemTime
        self.childrenUserTime = childrenUserTime
        self.childrenSystemTime = childrenSystemTime
    }

    /// USER_HZ on x86-64: times(2) and /proc count in 1/100 s.
    public static let USER_HZ: Int64 = 100

    public static let byteSize = 32
    public func encode(into writer: inout ByteWriter) {
        writer.i64(userTime)
        writer.i64(systemTime)
        writer.i64(childrenUserTime)
        writer.i64(childrenSystemTime)
    }
}
