// SyscallTable — the one declarative table from syscall number to handler (KernelCore).
//
// Built-in families register themselves from one list (BuiltinSyscalls.swift); user code
// registers new numbers or wraps built-ins through the same `register` (README, "Custom system
// calls"; the wrapping API is SyscallTableWrapping.swift). Every number without a handler
// answers -ENOSYS.
//
// The handler shape is the typed boundary: a handler decodes its registers through the typed
// views of SyscallArguments (descriptors, flag sets, sizes, user addresses), returns the value
// the program sees in rax, and fails by throwing an Errno (`throws(Errno)`, which Embedded
// Swift supports). Dispatch turns a thrown Errno into -errno for the guest. This surface
// (SyscallTable, SyscallHandler, SyscallWrapper, SyscallArguments, UserAddress, and
// KernelState's memory/process/currentThread/platform) is what users' handler files compile
// against; everything else in KernelCore may change between versions.
import LinuxABI

/// The arguments of one system call: the number (rax) and the six raw argument registers
/// (rdi, rsi, rdx, r10, r8, r9), with typed views that decode them.
///
/// The raw registers are whatever the program put there: every view either cannot fail
/// (`int`, `size`, `address`...) or throws the errno Linux gives for a bad value (`fd`,
/// `flags`). A `UserAddress` is still only a claim: read and write guest memory through
/// `KernelState.memory` (`copyIn`, `copyOut`, `readCString`), which answer EFAULT.
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
    /// Argument `i` as a signed 64-bit value (`long`, `off_t`, `ssize_t`).
    public func int(_ i: Int) -> Int { Int(Int64(bitPattern: self[i])) }
    /// Argument `i` as a C `int` (the upper 32 bits of the register are ignored, as Linux does).
    public func int32(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: self[i]) }
    /// Argument `i` as a C `unsigned int`.
    public func uint32(_ i: Int) -> UInt32 { UInt32(truncatingIfNeeded: self[i]) }
    /// Argument `i` as a `size_t` count, signed so that a huge count is negative and easy to
    /// refuse; handlers bound it before sizing anything by it.
    public func size(_ i: Int) -> Int { Int(Int64(bitPattern: self[i])) }
    /// Argument `i` as a guest pointer (unchecked: see `KernelState.memory`).
    public func address(_ i: Int) -> UserAddress { UserAddress(self[i]) }
    /// A file descriptor argument: negative values are EBADF (callers that accept AT_FDCWD
    /// check for it first).
    public func fd(_ i: Int) throws(Errno) -> Int {
        let v = int32(i)
        guard v >= 0 else { throw .EBADF }
        return Int(v)
    }
    /// A flag argument: bits outside `known` are EINVAL, as Linux rejects unknown flags.
    public func flags(_ i: Int, known: UInt64) throws(Errno) -> UInt64 {
        let v = self[i]
        guard v & ~known == 0 else { throw .EINVAL }
        return v
    }
    /// A flag argument decoded as one of LinuxABI's flag sets: bits the set does not name
    /// are EINVAL. The register is truncated to the set's width first (a C `int` flags
    /// argument arrives with undefined upper bits).
    public func flags<F: LinuxFlagSet>(_ i: Int, as type: F.Type) throws(Errno) -> F {
        let set = F(rawValue: F.RawValue(truncatingIfNeeded: self[i]))
        guard set.unknownBits == 0 else { throw .EINVAL }
        return set
    }
}

/// A guest virtual address: a claim until UserMemory checks it.
public struct UserAddress: Equatable {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public var isNull: Bool { value == 0 }
    public func advanced(by n: Int) -> UserAddress { UserAddress(value &+ UInt64(n)) }
}

/// The outcome of one call as a value: what tracers see and tests assert on.
public typealias SyscallResult = Result<Int, Errno>

/// A system call handler: returns the value the program sees in rax (a count, a descriptor,
/// an address) or throws the Errno it sees as -errno.
///
/// Handlers run on the calling thread's kernel stack with the big kernel lock held, so they
/// may touch any kernel state; a handler that blocks (`KernelState.wait`) releases the CPU to
/// other threads. A handler must not trap: every size it takes from the program is bounded
/// before it allocates, and arithmetic on guest values uses overflow-checked forms.
public typealias SyscallHandler = (KernelState, SyscallArguments) throws(Errno) -> Int

public struct SyscallTable {
    /// Numbers 0 ..< 512: Linux stops at 462 on x86-64, so 463-511 are free for new calls.
    public static let capacity = 512
    var handlers: [SyscallHandler?]

    public init() {
        handlers = [SyscallHandler?](repeating: nil, count: SyscallTable.capacity)
    }

    /// Installs `handler` for `number`.
    ///
    /// Closures need their full type written out, because swiftc does not infer a typed
    /// throw from the context: `table.register(500) { k, a throws(Errno) -> Int in ... }`.
    /// - Returns: the handler it replaces (so a wrapper can call the original), or nil when
    ///   there was none or `number` is outside 0 ..< ``capacity`` (nothing is installed then).
    @discardableResult
    public mutating func register(_ number: Int, _ handler: @escaping SyscallHandler) -> SyscallHandler? {
        guard number >= 0 && number < SyscallTable.capacity else { return nil }
        let old = handlers[number]
        handlers[number] = handler
        return old
    }

    /// The handler installed for `number`, or nil (the call answers ENOSYS).
    public func handler(for number: Int) -> SyscallHandler? {
        guard number >= 0 && number < SyscallTable.capacity else { return nil }
        return handlers[number]
    }

    /// Runs the handler for `arguments.number` (ENOSYS when there is none).
    public func dispatch(_ state: KernelState, _ arguments: SyscallArguments) -> SyscallResult {
        guard let handler = handler(for: arguments.number) else { return .failure(.ENOSYS) }
        return SyscallTable.invoke(handler, state, arguments)
    }

    /// Runs one handler and captures its outcome as a value (for tracers and tests).
    public static func invoke(_ handler: SyscallHandler, _ state: KernelState, _ arguments: SyscallArguments) -> SyscallResult {
        do { return .success(try handler(state, arguments)) } catch { return .failure(error) }
    }

    /// The value the guest sees in rax: the result, or -errno.
    public static func encode(_ result: SyscallResult) -> UInt64 {
        switch result {
        case .success(let v): return UInt64(bitPattern: Int64(v))
        case .failure(let e): return UInt64(bitPattern: -Int64(e.rawValue))
        }
    }
}
