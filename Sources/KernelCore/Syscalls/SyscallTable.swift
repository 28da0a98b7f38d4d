// SyscallTable — the one declarative table from syscall number to handler (KernelCore).
//
// Built-in families register themselves from one list (BuiltinSyscalls.swift); user code
// registers new numbers or wraps built-ins through the same `register` (issue: custom Swift
// syscall handlers). Every number without a handler answers -ENOSYS.
import LinuxABI

/// The six raw argument registers (rdi, rsi, rdx, r10, r8, r9) and the number (rax).
public struct SyscallArguments {
    public var number: Int
    public var raw: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    public init(number: Int, _ a0: UInt64 = 0, _ a1: UInt64 = 0, _ a2: UInt64 = 0,
                _ a3: UInt64 = 0, _ a4: UInt64 = 0, _ a5: UInt64 = 0) {
        self.number = number
        self.raw = (a0, a1, a2, a3, a4, a5)
    }

    public subscript(_ index: Int) -> UInt64 {
        switch index {
        case 0: return raw.0
        case 1: return raw.1
        case 2: return raw.2
        case 3: return raw.3
        case 4: return raw.4
        default: return raw.5
        }
    }

    // Typed views: the dispatch boundary turns registers into meaning here.
    public func int(_ i: Int) -> Int { Int(Int64(bitPattern: self[i])) }
    public func int32(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: self[i]) }
    public func uint32(_ i: Int) -> UInt32 { UInt32(truncatingIfNeeded: self[i]) }
    public func size(_ i: Int) -> Int { Int(Int64(bitPattern: self[i])) }
    public func address(_ i: Int) -> UserAddress { UserAddress(self[i]) }
    /// A file descriptor argument: negative values (other than AT_FDCWD, checked by the
    /// caller) are EBADF.
    public func fd(_ i: Int) -> Result<Int, Errno> {
        let v = int32(i)
        return v < 0 ? .failure(.EBADF) : .success(Int(v))
    }
    /// A flag argument: bits outside `known` are EINVAL.
    public func flags(_ i: Int, known: UInt64) -> Result<UInt64, Errno> {
        let v = self[i]
        return v & ~known != 0 ? .failure(.EINVAL) : .success(v)
    }
}

/// A guest virtual address: a claim until UserMemory checks it.
public struct UserAddress: Equatable {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public var isNull: Bool { value == 0 }
    public func advanced(by n: Int) -> UserAddress { UserAddress(value &+ UInt64(n)) }
}

public typealias SyscallResult = Result<Int, Errno>
public typealias SyscallHandler = (KernelState, SyscallArguments) -> SyscallResult

public struct SyscallTable {
    public static let capacity = 512
    var handlers: [SyscallHandler?]

    public init() {
        handlers = [SyscallHandler?](repeating: nil, count: SyscallTable.capacity)
    }

    /// Install `handler` for `number`, returning the handler it replaces (so a wrapper can
    /// call the original). Numbers outside the table are refused with false.
    @discardableResult
    public mutating func register(_ number: Int, _ handler: @escaping SyscallHandler) -> SyscallHandler? {
        guard number >= 0 && number < SyscallTable.capacity else { return nil }
        let old = handlers[number]
        handlers[number] = handler
        return old
    }

    public func handler(for number: Int) -> SyscallHandler? {
        guard number >= 0 && number < SyscallTable.capacity else { return nil }
        return handlers[number]
    }

    public func dispatch(_ state: KernelState, _ arguments: SyscallArguments) -> SyscallResult {
        guard let handler = handler(for: arguments.number) else { return .failure(.ENOSYS) }
        return handler(state, arguments)
    }

    /// The value the guest sees in rax: the result, or -errno.
    public static func encode(_ result: SyscallResult) -> UInt64 {
        switch result {
        case .success(let v): return UInt64(bitPattern: Int64(v))
        case .failure(let e): return UInt64(bitPattern: -Int64(e.rawValue))
        }
    }
}
