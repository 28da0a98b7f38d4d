// ScriptHeaderTests — the "#!" line rules of Sources/ELF/ScriptHeader.swift (Linux's
// fs/binfmt_script.c) and the PT_INTERP path reader that execve uses for ENOENT.

import XCTest
import ELF

final class ScriptHeaderTests: XCTestCase {
    func parse(_ s: String) -> ScriptHeader.Parse { ScriptHeader.parse(Array(s.utf8)) }
    func script(_ i: String, _ a: String?) -> ScriptHeader.Parse {
        .script(interpreter: Array(i.utf8), argument: a.map { Array($0.utf8) })
    }

    func testInterpreterAlone() {
        XCTAssertEqual(parse("#!/bin/sh\necho hi\n"), script("/bin/sh", nil))
    }

    func testBlanksAroundTheInterpreterAreSkipped() {
        XCTAssertEqual(parse("#! \t/bin/sh \t\nx"), script("/bin/sh", nil))
    }

    func testEverythingAfterTheInterpreterIsOneArgument() {
        XCTAssertEqual(parse("#!/usr/bin/env  -S python3 -u  \n"), script("/usr/bin/env", "-S python3 -u"))
    }

    func testNoNewlineStillParsesWhenTheNameIsComplete() {
        XCTAssertEqual(parse("#!/bin/busybox sh"), script("/bin/busybox", "sh"))
    }

    func testNotAScript() {
        XCTAssertEqual(parse("\u{7f}ELF"), .notScript)
        XCTAssertEqual(parse("#"), .notScript)
        XCTAssertEqual(parse(""), .notScript)
        XCTAssertEqual(parse(" #!/bin/sh\n"), .notScript)
    }

    func testEmptyInterpreterIsMalformed() {
        XCTAssertEqual(parse("#!\n/bin/sh\n"), .malformed)
        XCTAssertEqual(parse("#!   \t \n"), .malformed)
        XCTAssertEqual(parse("#!"), .malformed)
    }

    func testInterpreterCutByTheWindowIsMalformed() {
        // 300 bytes of name and no newline: the first 256 bytes end inside the name.
        let long = "#!/" + String(repeating: "a", count: 300)
        XCTAssertEqual(parse(long), .malformed)
        // The same name ended by a blank within the window is fine, the argument cut there.
        let fits = "#!/bin/x " + String(repeating: "b", count: 300)
        guard case .script(let i, let a) = parse(fits) else { return XCTFail("not parsed") }
        XCTAssertEqual(i, Array("/bin/x".utf8))
        XCTAssertEqual(a?.count, ScriptHeader.bufferSize - 9)
    }

    func testOnlyTheFirstLineCounts() {
        XCTAssertEqual(parse("#!/bin/a\n#!/bin/b c\n"), script("/bin/a", nil))
    }

    func testInterpreterArgumentsReplaceArgvZeroWithTheScriptPath() {
        let argv = ScriptHeader.interpreterArguments(interpreter: Array("/bin/sh".utf8), argument: Array("-e".utf8),
                                                     scriptPath: Array("/s.sh".utf8),
                                                     originalArguments: [Array("name".utf8), Array("x".utf8)])
        XCTAssertEqual(argv.map { String(decoding: $0, as: UTF8.self) }, ["/bin/sh", "-e", "/s.sh", "x"])
        let bare = ScriptHeader.interpreterArguments(interpreter: Array("/i".utf8), argument: nil,
                                                     scriptPath: Array("s".utf8), originalArguments: [])
        XCTAssertEqual(bare.map { String(decoding: $0, as: UTF8.self) }, ["/i", "s"])
    }

    func testInterpreterPathOfADynamicExecutable() {
        var b = TestELFBuilder.staticExecutable()
        let path = Array("/lib64/ld-linux-x86-64.so.2".utf8) + [0]
        b.headers.insert(ProgramHeader(type: ProgramHeaderType.interpreter, flags: 4, offset: 0x300,
                                       virtualAddress: 0x400300, fileSize: UInt64(path.count),
                                       memorySize: UInt64(path.count), alignment: 1), at: 0)
        b.patches.append((0x300, path))
        XCTAssertEqual(elfInterpreterPath(b.bytes()), Array("/lib64/ld-linux-x86-64.so.2".utf8))
    }

    func testNoInterpreterPathInAStaticExecutableOrGarbage() {
        XCTAssertNil(elfInterpreterPath(TestELFBuilder.staticExecutable().bytes()))
        XCTAssertNil(elfInterpreterPath(Array("#!/bin/sh\n".utf8)))
        XCTAssertNil(elfInterpreterPath([UInt8](repeating: 0xff, count: 200)))
    }

    func testInterpreterPathWithoutItsNULIsRefused() {
        var b = TestELFBuilder.staticExecutable()
        let path = Array("/lib/ld.so".utf8)
        b.headers.insert(ProgramHeader(type: ProgramHeaderType.interpreter, flags: 4, offset: 0x300,
                                       virtualAddress: 0x400300, fileSize: UInt64(path.count),
                                       memorySize: UInt64(path.count), alignment: 1), at: 0)
        b.patches.append((0x300, path))
        XCTAssertNil(elfInterpreterPath(b.bytes()))
    }
}
