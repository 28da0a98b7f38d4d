// InitialStack — the bytes of a new process's stack at its first instruction (ELF layer).
//
// Pure function: it returns an image for [stackPointer, stackTop) and the kernel
// (Sources/KernelCore) copies it into the guest's stack pages and starts the guest with
// rsp = stackPointer. Layout from high to low addresses, as Linux builds it
// (fs/exec.c copy_strings + fs/binfmt_elf.c create_elf_tables) and as the System V x86-64
// psABI §3.4.1 "Initial Stack and Register State" describes:
//
//   stackTop - 8        8 zero bytes (end marker)
//                       execfn string (AT_EXECFN)
//                       envp strings, envp[0] lowest
//   (arg_start)         argv strings, argv[0] lowest
//                       padding down to 16-byte alignment
//                       platform string "x86_64" (AT_PLATFORM)
//                       16 random bytes (AT_RANDOM)
//                       padding so that rsp is 16-byte aligned
//                       auxv pairs, ending with (AT_NULL, 0)
//                       NULL, envp pointers
//                       NULL, argv pointers
//   stackPointer ->     argc

public struct InitialStack: Equatable, Sendable {
    /// Bytes to place at [stackPointer, stackTop).
    public var bytes: [UInt8]
    /// Initial rsp: points at argc, 16-byte aligned.
    public var stackPointer: UInt64
    /// Address of argv[0]'s string (Linux mm->arg_start; /proc/self/cmdline starts here).
    public var argumentsStart: UInt64
    /// Address of envp[0]'s string, one past argv's last NUL (Linux mm->arg_end, env_start).
    public var environmentStart: UInt64
    /// One past the last envp string's NUL (Linux mm->env_end).
    public var environmentEnd: UInt64
}

public enum InitialStackError: Error, Equatable, Sendable {
    /// An argument, environment entry, execfn or platform string contains a NUL byte.
    case stringContainsNUL
    /// `randomBytes` is not exactly 16 bytes long.
    case badRandomBytes
    /// The image would exceed `sizeLimit` or run below address 0 (execve's E2BIG).
    case tooLarge
}

/// Builds the initial stack image.
///
/// - Parameters:
///   - stackTop: one past the highest stack byte (normally page aligned).
///   - arguments, environment: argv and envp strings, without terminating NULs.
///   - executableName: the path given to execve (AT_EXECFN).
///   - platform: AT_PLATFORM string, "x86_64" on x86-64 Linux.
///   - randomBytes: exactly 16 bytes for AT_RANDOM (libc seeds its stack protector from them).
///   - auxiliaryVector: entries to emit first, e.g. LoadPlan.standardAuxiliaryVector(); any
///     AT_NULL, AT_RANDOM, AT_EXECFN or AT_PLATFORM in it is dropped, because this function
///     adds those itself pointing at the bytes it placed.
///   - sizeLimit: largest image accepted (Linux allows a quarter of RLIMIT_STACK, 2 MiB).
public func buildInitialStack(
    stackTop: UInt64,
    arguments: [[UInt8]],
    environment: [[UInt8]],
    executableName: [UInt8],
    platform: [UInt8] = Array("x86_64".utf8),
    randomBytes: [UInt8],
    auxiliaryVector: [AuxvEntry],
    sizeLimit: UInt64 = 2 << 20
) throws(InitialStackError) -> InitialStack {
    guard randomBytes.count == 16 else { throw .badRandomBytes }
    for string in arguments where string.contains(0) { throw .stringContainsNUL }
    for string in environment where string.contains(0) { throw .stringContainsNUL }
    guard !executableName.contains(0), !platform.contains(0) else { throw .stringContainsNUL }

    // Sizes first, so every address is known before a byte is written. All arithmetic is
    // on sizes bounded by sizeLimit, checked before it can overflow.
    var stringBytes: UInt64 = 0
    for string in arguments { stringBytes += UInt64(string.count) + 1 }
    for string in environment { stringBytes += UInt64(string.count) + 1 }
    let execfnSize = UInt64(executableName.count) + 1
    guard stringBytes <= sizeLimit, execfnSize <= sizeLimit else { throw .tooLarge }

    var auxv: [AuxvEntry] = []
    let added: [UInt64] = [AuxvType.null.rawValue, AuxvType.random.rawValue,
                           AuxvType.executableName.rawValue, AuxvType.platform.rawValue]
    for entry in auxiliaryVector where !added.contains(entry.type) { auxv.append(entry) }
    let auxvWords = UInt64(auxv.count + 4) * 2   // + AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_NULL
    let pointerWords = UInt64(arguments.count + 1) + UInt64(environment.count + 1) + 1

    // Addresses, top down. `need` tracks the distance from stackTop to check the limit.
    let endMarker: UInt64 = 8
    let need = endMarker + execfnSize + stringBytes
    guard need <= sizeLimit, need <= stackTop else { throw .tooLarge }
    let execfnAddress = stackTop - endMarker - execfnSize
    let argumentsStart = execfnAddress - stringBytes
    var p = argumentsStart & ~15                           // arch_align_stack without ASLR
    let platformSize = UInt64(platform.count) + 1
    let randomSize: UInt64 = 16
    let tables = (auxvWords + pointerWords) * 8
    guard stackTop - p + platformSize + randomSize + tables + 16 <= sizeLimit,
          stackTop - p + platformSize + randomSize + tables + 16 <= stackTop else {
        throw .tooLarge
    }
    p -= platformSize
    let platformAddress = p
    p -= randomSize
    let randomAddress = p
    let stackPointer = (p - tables) & ~15                 // STACK_ROUND

    // Write the image. Offsets are relative to stackPointer.
    var bytes = [UInt8](repeating: 0, count: Int(stackTop - stackPointer))
    func put(_ value: UInt64, at address: UInt64) {
        let offset = Int(address - stackPointer)
        for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    func put(_ string: [UInt8], at address: UInt64) {
        let offset = Int(address - stackPointer)
        for (i, byte) in string.enumerated() { bytes[offset + i] = byte }
        // The NUL terminator is already there: the array starts zeroed.
    }

    put(executableName, at: execfnAddress)
    var cursor = argumentsStart
    var argumentPointers: [UInt64] = []
    for string in arguments {
        argumentPointers.append(cursor)
        put(string, at: cursor)
        cursor += UInt64(string.count) + 1
    }
    let environmentStart = cursor
    var environmentPointers: [UInt64] = []
    for string in environment {
        environmentPointers.append(cursor)
        put(string, at: cursor)
        cursor += UInt64(string.count) + 1
    }
    let environmentEnd = cursor
    put(platform, at: platformAddress)
    put(randomBytes, at: randomAddress)

    var slot = stackPointer
    func push(_ value: UInt64) {
        put(value, at: slot)
        slot += 8
    }
    push(UInt64(arguments.count))
    for pointer in argumentPointers { push(pointer) }
    push(0)
    for pointer in environmentPointers { push(pointer) }
    push(0)
    for entry in auxv {
        push(entry.type)
        push(entry.value)
    }
    push(AuxvType.random.rawValue); push(randomAddress)
    push(AuxvType.executableName.rawValue); push(execfnAddress)
    push(AuxvType.platform.rawValue); push(platformAddress)
    push(AuxvType.null.rawValue); push(0)

    return InitialStack(bytes: bytes, stackPointer: stackPointer,
                        argumentsStart: argumentsStart, environmentStart: environmentStart,
                        environmentEnd: environmentEnd)
}

/// String convenience over `buildInitialStack(stackTop:arguments:...)` (UTF-8 bytes).
public func buildInitialStack(
    stackTop: UInt64,
    arguments: [String],
    environment: [String],
    executableName: String,
    platform: String = "x86_64",
    randomBytes: [UInt8],
    auxiliaryVector: [AuxvEntry],
    sizeLimit: UInt64 = 2 << 20
) throws(InitialStackError) -> InitialStack {
    try buildInitialStack(
        stackTop: stackTop, arguments: arguments.map { Array($0.utf8) },
        environment: environment.map { Array($0.utf8) },
        executableName: Array(executableName.utf8), platform: Array(platform.utf8),
        randomBytes: randomBytes, auxiliaryVector: auxiliaryVector, sizeLimit: sizeLimit)
}
