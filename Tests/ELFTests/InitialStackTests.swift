// InitialStackTests — decodes the image built by buildInitialStack
// (Sources/ELF/InitialStack.swift) the way a C library's _start does, and checks it.

import XCTest
import ELF

/// What a libc start routine sees, decoded from an InitialStack.
private struct DecodedStack {
    var argv: [[UInt8]] = []
    var envp: [[UInt8]] = []
    var auxv: [(UInt64, UInt64)] = []
    var auxvEnd: UInt64 = 0
}

private func cString(_ stack: InitialStack, at address: UInt64) -> [UInt8]? {
    guard address >= stack.stackPointer else { return nil }
    var offset = Int(address - stack.stackPointer)
    var out: [UInt8] = []
    while offset < stack.bytes.count {
        if stack.bytes[offset] == 0 { return out }
        out.append(stack.bytes[offset])
        offset += 1
    }
    return nil
}

private func word(_ stack: InitialStack, at address: UInt64) -> UInt64 {
    read64(stack.bytes, Int(address - stack.stackPointer))
}

private func decode(_ stack: InitialStack) throws -> DecodedStack {
    var d = DecodedStack()
    var slot = stack.stackPointer
    let argc = word(stack, at: slot); slot += 8
    for _ in 0..<argc {
        d.argv.append(try XCTUnwrap(cString(stack, at: word(stack, at: slot))))
        slot += 8
    }
    XCTAssertEqual(word(stack, at: slot), 0, "argv[argc] must be NULL"); slot += 8
    while word(stack, at: slot) != 0 {
        d.envp.append(try XCTUnwrap(cString(stack, at: word(stack, at: slot))))
        slot += 8
    }
    slot += 8
    while true {
        let type = word(stack, at: slot), value = word(stack, at: slot + 8)
        slot += 16
        if type == 0 { XCTAssertEqual(value, 0); break }
        d.auxv.append((type, value))
    }
    d.auxvEnd = slot
    return d
}

private let random16: [UInt8] = Array(0xa0...0xaf)

final class InitialStackTests: XCTestCase {
    func testLayoutDecodesBackToTheInputs() throws {
        let top: UInt64 = 0x7fff_ffff_f000
        let given = [AuxvEntry(.pageSize, 4096), AuxvEntry(.entry, 0x401000),
                     AuxvEntry(rawType: 0x99, value: 7)]
        let stack = try buildInitialStack(
            stackTop: top, arguments: ["/bin/prog", "-v", ""],
            environment: ["PATH=/bin", "HOME=/"], executableName: "/bin/prog",
            randomBytes: random16, auxiliaryVector: given)
        XCTAssertEqual(stack.stackPointer % 16, 0)
        XCTAssertEqual(stack.stackPointer + UInt64(stack.bytes.count), top)
        let d = try decode(stack)
        XCTAssertEqual(d.argv, [Array("/bin/prog".utf8), Array("-v".utf8), []])
        XCTAssertEqual(d.envp, [Array("PATH=/bin".utf8), Array("HOME=/".utf8)])
        // Caller's entries first, in order, then the three the builder adds.
        XCTAssertEqual(d.auxv.map(\.0), [6, 9, 0x99, 25, 31, 15])
        XCTAssertEqual(d.auxv[0].1, 4096)
        XCTAssertEqual(d.auxv[2].1, 7)
        let randomAddress = d.auxv[3].1
        let offset = Int(randomAddress - stack.stackPointer)
        XCTAssertEqual(Array(stack.bytes[offset..<offset + 16]), random16)
        XCTAssertEqual(cString(stack, at: d.auxv[4].1), Array("/bin/prog".utf8))
        XCTAssertEqual(cString(stack, at: d.auxv[5].1), Array("x86_64".utf8))
        // Everything the tables point at lies above the tables.
        XCTAssertGreaterThanOrEqual(randomAddress, d.auxvEnd)
        // Linux order: execfn right under the 8-byte end marker, argv strings lowest.
        XCTAssertEqual(d.auxv[4].1, top - 8 - 10)
        XCTAssertEqual(Array(stack.bytes.suffix(8)), [0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(stack.argumentsStart, word(stack, at: stack.stackPointer + 8))
        XCTAssertEqual(stack.environmentEnd, d.auxv[4].1)
        XCTAssertEqual(stack.environmentStart, stack.argumentsStart + 10 + 3 + 1)
        XCTAssertEqual(cString(stack, at: stack.environmentStart), Array("PATH=/bin".utf8))
        XCTAssertEqual(cString(stack, at: stack.argumentsStart), Array("/bin/prog".utf8))
    }

    func testAlignmentForManyShapes() throws {
        for top: UInt64 in [0x7fff_ffff_f000, 0x7fff_ffff_effd] {
            for argc in 0..<4 {
                for envc in 0..<3 {
                    for length in 0..<17 {
                        let args = (0..<argc).map { [UInt8](repeating: 0x61 + UInt8($0), count: length + $0) }
                        let env = (0..<envc).map { [UInt8](repeating: 0x41 + UInt8($0), count: length) }
                        let auxv = (0..<(length % 3)).map { AuxvEntry(rawType: 100 + UInt64($0), value: 1) }
                        let stack = try buildInitialStack(
                            stackTop: top, arguments: args, environment: env,
                            executableName: Array(repeating: 0x2f, count: length),
                            randomBytes: random16, auxiliaryVector: auxv)
                        XCTAssertEqual(stack.stackPointer % 16, 0)
                        XCTAssertEqual(stack.stackPointer + UInt64(stack.bytes.count), top)
                        let d = try decode(stack)
                        XCTAssertEqual(d.argv, args)
                        XCTAssertEqual(d.envp, env)
                        XCTAssertEqual(d.auxv.count, auxv.count + 3)
                    }
                }
            }
        }
    }

    func testCallerSuppliedRandomExecfnPlatformAndNullAreReplaced() throws {
        let stack = try buildInitialStack(
            stackTop: 0x1_0000_0000, arguments: ["a"], environment: [], executableName: "a",
            randomBytes: random16,
            auxiliaryVector: [AuxvEntry(.random, 1), AuxvEntry(.null, 0), AuxvEntry(.uid, 5),
                              AuxvEntry(.platform, 2), AuxvEntry(.executableName, 3)])
        let d = try decode(stack)
        XCTAssertEqual(d.auxv.map(\.0), [11, 25, 31, 15])
        XCTAssertEqual(d.auxv[0].1, 5)
        XCTAssertGreaterThan(d.auxv[1].1, stack.stackPointer)
    }

    func testAuxvFromALoadPlanEndsUpOnTheStack() throws {
        let plan = try ELFImage(TestELFBuilder.staticExecutable().bytes()).makeLoadPlan()
        let stack = try buildInitialStack(
            stackTop: 0x7fff_ffff_f000, arguments: ["prog"], environment: [],
            executableName: "prog", randomBytes: random16,
            auxiliaryVector: plan.standardAuxiliaryVector())
        let d = try decode(stack)
        XCTAssertTrue(d.auxv.contains { $0.0 == 3 && $0.1 == 0x400040 })  // AT_PHDR
        XCTAssertTrue(d.auxv.contains { $0.0 == 9 && $0.1 == 0x401010 })  // AT_ENTRY
        XCTAssertTrue(d.auxv.contains { $0.0 == 5 && $0.1 == 5 })         // AT_PHNUM
    }

    func testErrors() {
        XCTAssertThrowsError(try buildInitialStack(
            stackTop: 0x10000, arguments: [[0x61, 0, 0x62]], environment: [],
            executableName: [0x61], randomBytes: random16, auxiliaryVector: [])) {
            XCTAssertEqual($0 as? InitialStackError, .stringContainsNUL)
        }
        XCTAssertThrowsError(try buildInitialStack(
            stackTop: 0x10000, arguments: [], environment: [[0]],
            executableName: [0x61], randomBytes: random16, auxiliaryVector: [])) {
            XCTAssertEqual($0 as? InitialStackError, .stringContainsNUL)
        }
        XCTAssertThrowsError(try buildInitialStack(
            stackTop: 0x10000, arguments: [], environment: [],
            executableName: [0x61, 0], randomBytes: random16, auxiliaryVector: [])) {
            XCTAssertEqual($0 as? InitialStackError, .stringContainsNUL)
        }
        XCTAssertThrowsError(try buildInitialStack(
            stackTop: 0x10000, arguments: ["a"], environment: [], executableName: "a",
            randomBytes: Array(random16.prefix(15)), auxiliaryVector: [])) {
            XCTAssertEqual($0 as? InitialStackError, .badRandomBytes)
        }
        let big = [UInt8](repeating: 0x78, count: 5000)
        XCTAssertThrowsError(try buildInitialStack(
            stackTop: 0x7fff_0000, arguments: [big], environment: [], executableName: [0x61],
            randomBytes: random16, auxiliaryVector: [], sizeLimit: 4096)) {
            XCTAssertEqual($0 as? InitialStackError, .tooLarge)
        }
        // The tables alone push it over: strings fit, pointers do not.
        XCTAssertThrowsError(try buildInitialStack(
            stackTop: 0x7fff_0000, arguments: Array(repeating: [0x61], count: 1000),
            environment: [], executableName: [0x61], randomBytes: random16,
            auxiliaryVector: [], sizeLimit: 4096)) {
            XCTAssertEqual($0 as? InitialStackError, .tooLarge)
        }
        // Would run below address 0.
        XCTAssertThrowsError(try buildInitialStack(
            stackTop: 0x80, arguments: ["abc"], environment: [], executableName: "abc",
            randomBytes: random16, auxiliaryVector: [])) {
            XCTAssertEqual($0 as? InitialStackError, .tooLarge)
        }
        XCTAssertThrowsError(try buildInitialStack(
            stackTop: 0x20, arguments: [], environment: [], executableName: [0x61],
            randomBytes: random16, auxiliaryVector: [])) {
            XCTAssertEqual($0 as? InitialStackError, .tooLarge)
        }
    }

    func testSmallestStackThatFitsStartsAtAddressZeroOrAbove() throws {
        // Shrink stackTop until it fails; the last success must begin at or above 0.
        var top: UInt64 = 0x400
        var last: InitialStack?
        while let stack = try? buildInitialStack(
            stackTop: top, arguments: ["x"], environment: ["Y=1"], executableName: "x",
            randomBytes: random16, auxiliaryVector: [AuxvEntry(.pageSize, 4096)]) {
            last = stack
            top -= 1
        }
        let stack = try XCTUnwrap(last)
        XCTAssertEqual(stack.stackPointer + UInt64(stack.bytes.count), top + 1)
        XCTAssertEqual(try decode(stack).argv, [[0x78]])
    }
}
