// BootBundle — the one module egg hands to the kernel (KernelCore layer, pure logic).
//
// egg (Sources/EggHost) builds it on the host; the kernel (Sources/Kernel) parses it from the
// boot module. It carries the guest executable, argv, envp and, later, the file-system
// archive, so nothing has to squeeze through QEMU's -initrd/-append quoting rules. The kernel
// keeps the bundle's memory reserved for the guest's whole life: the file archive's members
// are read where they lie (VFS/FileData.swift), never copied to the heap.
//
// Layout (all integers little-endian):
//   magic   "EGGBNDL1"                     8 bytes
//   count   UInt32, then 4 bytes of zero
//   count × record { kind UInt32, zero UInt32, length UInt64, payload padded to 8 bytes }

import ELF

public enum BootBundleRecordKind: UInt32 {
    case executable = 1   // the guest ELF image
    case argument = 2     // one argv entry, in order; argv[0] first
    case environment = 3  // one "KEY=VALUE" entry
    case executablePath = 4 // the path the guest sees as /proc/self/exe and AT_EXECFN
    case fileArchive = 5  // root file system archive (Sources/KernelCore VFS)
    case option = 6       // "key=value" kernel option (e.g. "trace=1")
}

extension BootBundle {
    /// The value of the last "key=value" option for `key` (egg's --hostname gives
    /// "hostname=NAME", -w/--workdir "workdir=/PATH"); nil when absent.
    public static func optionValue(_ key: String, in options: [String]) -> String? {
        let prefix = key + "="
        var found: String? = nil
        for option in options where option.hasPrefix(prefix) { found = String(option.dropFirst(prefix.count)) }
        return found
    }
}

public enum BootBundleError: Error, Equatable {
    case badMagic
    case truncated
    case missingExecutable
}

/// A record's place inside the bundle; the payload is read lazily (the executable can be
/// megabytes and the kernel copies it straight into guest pages).
public struct BootBundleRecord: Equatable {
    public let kind: UInt32
    public let offset: Int
    public let length: Int
}

public struct BootBundle {
    public static let magic: [UInt8] = Array("EGGBNDL1".utf8)
    public var records: [BootBundleRecord] = []

    public init<S: ByteSource>(parsing source: S) throws(BootBundleError) {
        guard source.byteCount >= 16 else { throw .truncated }
        for i in 0..<8 where source.byte(at: i) != BootBundle.magic[i] { throw .badMagic }
        let count = Int(source.littleEndian32(at: 8))
        var offset = 16
        for _ in 0..<count {
            guard offset + 16 <= source.byteCount else { throw .truncated }
            let kind = source.littleEndian32(at: offset)
            let length64 = source.littleEndian64(at: offset + 8)
            guard length64 <= UInt64(source.byteCount - offset - 16) else { throw .truncated }
            let length = Int(length64)
            records.append(BootBundleRecord(kind: kind, offset: offset + 16, length: length))
            offset += 16 + ((length + 7) & ~7)
        }
        guard records.contains(where: { $0.kind == BootBundleRecordKind.executable.rawValue }) else {
            throw .missingExecutable
        }
    }

    public func records(of kind: BootBundleRecordKind) -> [BootBundleRecord] {
        records.filter { $0.kind == kind.rawValue }
    }

    public func first(_ kind: BootBundleRecordKind) -> BootBundleRecord? {
        records.first { $0.kind == kind.rawValue }
    }

    /// Host side: serialise records into a bundle image.
    public static func build(_ records: [(BootBundleRecordKind, [UInt8])]) -> [UInt8] {
        var out = magic
        var capacity = 16
        for (_, payload) in records { capacity += 16 + payload.count + 8 }
        out.reserveCapacity(capacity)   // one allocation even for a 1 GiB --files archive
        appendLE(&out, UInt64(UInt32(records.count)))
        for (kind, payload) in records {
            appendLE(&out, UInt64(kind.rawValue))
            appendLE(&out, UInt64(payload.count))
            out.append(contentsOf: payload)
            while out.count % 8 != 0 { out.append(0) }
        }
        return out
    }

    private static func appendLE(_ out: inout [UInt8], _ value: UInt64) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}
