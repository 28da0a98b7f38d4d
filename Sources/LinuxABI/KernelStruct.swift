// KernelStruct — the two protocols every x86-64 Linux structure layout in this module follows
// (LinuxABI layer). A layout writes itself field by field through ByteWriter (ByteCoding.swift)
// and, when the kernel reads it from the guest, reads itself back through ByteReader.
// The layouts: FileStructs.swift (stat, statx, dirent64), SystemStructs.swift (time, limits,
// uname, sysinfo, rusage, tms), TerminalStructs.swift (winsize, termios), IOStructs.swift
// (iovec, pollfd, epoll_event, sockaddr_in), SignalStructs.swift (kernel sigaction),
// SignalFrame.swift (siginfo, sigcontext, ucontext, rt_sigframe).

/// A structure the kernel writes to guest memory.
public protocol KernelStructEncodable {
    /// sizeof() of the C structure on x86-64.
    static var byteSize: Int { get }
    func encode(into writer: inout ByteWriter)
}

extension KernelStructEncodable {
    /// The structure's bytes, exactly `byteSize` of them.
    public func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.byteSize)
        encode(into: &writer)
        return writer.bytes
    }
}

/// A structure the kernel reads from guest memory.
public protocol KernelStructDecodable {
    static var byteSize: Int { get }
    static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> Self
}

extension KernelStructDecodable {
    /// Decodes one structure from the start of `bytes` (at `offset`).
    public static func decode(from bytes: [UInt8], offset: Int = 0) throws(ByteDecodingError) -> Self {
        var reader = ByteReader(bytes, offset: offset)
        return try decode(from: &reader)
    }

    /// Decodes `count` consecutive structures (an iovec array, a pollfd array...).
    public static func decodeArray(from bytes: [UInt8], count: Int) throws(ByteDecodingError) -> [Self] {
        var reader = ByteReader(bytes)
        var items: [Self] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try decode(from: &reader)) }
        return items
    }
}

/// Encodes consecutive structures (the ready list of epoll_wait, a pollfd array back).
public func encodeArray<T: KernelStructEncodable>(_ items: [T]) -> [UInt8] {
    var writer = ByteWriter(capacity: T.byteSize * items.count)
    for item in items { item.encode(into: &writer) }
    return writer.bytes
}
