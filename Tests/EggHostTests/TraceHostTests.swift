// TraceHostTests — egg's side of --trace, --trace-summary, --gdb and crash symbolization
// (Sources/EggHost/TraceOptions.swift, TraceSummary.swift, TraceRelay.swift,
// CrashSymbolizer.swift, GDBSession.swift, QEMUCommand.swift). Expected tables follow
// strace 6.1's -c output format.

@testable import EggHost
import XCTest

final class TraceHostTests: XCTestCase {
    // MARK: command line

    func testTraceWithAListBecomesAFilterOption() {
        XCTAssertEqual(rewriteOptionalValueOptions(["run", "--trace=read,%net", "./bin"]),
                       ["run", "--trace", "--trace-filter", "read,%net", "./bin"])
        XCTAssertEqual(rewriteOptionalValueOptions(["run", "--trace", "./bin"]), ["run", "--trace", "./bin"])
    }

    func testGDBTakesAnOptionalPort() {
        XCTAssertEqual(rewriteOptionalValueOptions(["run", "--gdb", "./bin"]),
                       ["run", "--gdb-port", "1234", "./bin"])
        XCTAssertEqual(rewriteOptionalValueOptions(["run", "--gdb", "4321", "./bin"]),
                       ["run", "--gdb-port", "4321", "./bin"])
        XCTAssertEqual(rewriteOptionalValueOptions(["run", "--gdb=99", "./bin"]), ["run", "--gdb-port", "99", "./bin"])
    }

    func testWordsAfterTheTerminatorAreTheGuests() {
        XCTAssertEqual(rewriteOptionalValueOptions(["run", "./bin", "--", "--trace=x", "--gdb"]),
                       ["run", "./bin", "--", "--trace=x", "--gdb"])
    }

    func testTraceRequestKernelOptionsAndValidation() {
        XCTAssertNil(TraceRequest.from(trace: false, filter: nil, timeOfDay: true, summary: false, outputPath: nil))
        let summaryOnly = TraceRequest.from(trace: false, filter: nil, timeOfDay: false, summary: true, outputPath: nil)!
        XCTAssertFalse(summaryOnly.showLines)
        XCTAssertEqual(summaryOnly.kernelOptions, ["trace=1", "trace-durations=1"])
        let full = TraceRequest.from(trace: true, filter: "read,%file", timeOfDay: true, summary: false, outputPath: nil)!
        XCTAssertTrue(full.showLines)
        XCTAssertEqual(full.kernelOptions, ["trace=1", "trace-filter=read,%file", "trace-time=1"])
        XCTAssertNil(full.validationProblem())
        let bad = TraceRequest(filter: "read,nosuchcall")
        XCTAssertEqual(bad.validationProblem(), "--trace=read,nosuchcall: unknown system call 'nosuchcall'")
    }

    func testQEMUGetsASecondSerialPortAndTheGDBStubOnlyWhenAsked() {
        var configuration = QEMUConfiguration(kernelPath: "/k", bundlePath: "/b", controlPath: "/c")
        XCTAssertEqual(configuration.arguments.filter { $0 == "-serial" }.count, 1)
        XCTAssertFalse(configuration.arguments.contains("-S"))
        configuration.tracePath = "/t/trace"
        configuration.gdbPort = 2345
        let args = configuration.arguments
        let serials = args.indices.filter { args[$0] == "-serial" }.map { args[$0 + 1] }
        XCTAssertEqual(serials, ["chardev:console", "chardev:trace"], "COM1 then COM2")
        XCTAssertTrue(args.contains("file,id=trace,path=/t/trace"))
        XCTAssertTrue(args.contains("-S"))
        XCTAssertEqual(args[args.firstIndex(of: "-gdb")! + 1], "tcp::2345")
    }

    func testGDBCommandLoadsKernelAndGuestSymbols() {
        let exec = gdbCommand(kernelPath: "/k/kernel.elf", guestPath: "/g/prog", guestLoadBase: 0, port: 1234)
        XCTAssertTrue(exec.contains("file /k/kernel.elf"))
        XCTAssertTrue(exec.contains("add-symbol-file /g/prog"))
        XCTAssertTrue(exec.contains("target remote localhost:1234"))
        let pie = gdbCommand(kernelPath: "/k", guestPath: "/g/pie", guestLoadBase: 0x5555_5555_4000, port: 1)
        XCTAssertTrue(pie.contains("add-symbol-file /g/pie -o 0x555555554000"))
    }

    // MARK: trace lines and the summary

    func testTraceLineParsing() {
        let ok = TraceLine(parsing: "write(1, \"hi\\n\", 3)                     = 3 <0.000001500>")
        XCTAssertEqual(ok, TraceLine(name: "write", failed: false, nanoseconds: 1500))
        let failed = TraceLine(parsing: "[pid     2] 12:00:01.000002 openat(AT_FDCWD, \"/x = y\", O_RDONLY) = -1 ENOENT (No such file or directory) <0.000000020>")
        XCTAssertEqual(failed, TraceLine(name: "openat", failed: true, nanoseconds: 20))
        XCTAssertNil(TraceLine(parsing: "exit_group(0)                           = ?"))
        XCTAssertNil(TraceLine(parsing: "+++ exited with 0 +++"))
    }

    func testDurationsAreStrippedFromShownLines() {
        XCTAssertEqual(stripDuration("getpid()                                = 1 <0.000000123>"),
                       "getpid()                                = 1")
        XCTAssertEqual(stripDuration("write(1, \"<b>\", 3) = 3"), "write(1, \"<b>\", 3) = 3")
    }

    func testSummaryTableLikeStraceC() {
        var summary = TraceSummary()
        for line in ["write(1, \"a\", 1) = 1 <0.000003000>", "write(1, \"b\", 1) = 1 <0.000001000>",
                     "close(-1) = -1 EBADF (Bad file descriptor) <0.000004000>", "getpid() = 1 <0.000000000>",
                     "read(0, \"\", 1) = 0 <0.000000000>"] {
            summary.add(TraceLine(parsing: line)!)
        }
        XCTAssertEqual(summary.render(), """
            % time     seconds  usecs/call     calls    errors syscall
            ------ ----------- ----------- --------- --------- ----------------
             50.00    0.000004           2         2           write
             50.00    0.000004           4         1         1 close
              0.00    0.000000           0         1           read
              0.00    0.000000           0         1           getpid
            ------ ----------- ----------- --------- --------- ----------------
            100.00    0.000008           1         5         1 total

            """)
    }

    /// Issue 16: with several processes the summary names each (pid, program) after the
    /// table; threads (clone with CLONE_THREAD) count in their process.
    func testSummaryNamesEachProcess() {
        var text = ""
        let sink = TraceLineSink(request: TraceRequest(showLines: false, summary: true), firstProgram: "sh") { text += $0 }
        for line in ["getpid() = 1 <0.000001000>",
                     "fork() = 2 <0.000010000>",
                     "[pid     2] execve(\"/bin/sort\", [\"sort\"], 0x7f00 /* 1 var */) = 0 <0.000020000>",
                     "[pid     2] clone(child_stack=0x7f0000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM) = 3 <0.000002000>",
                     "[pid     3] read(0, \"\", 4096) = 0 <0.000001000>",
                     "[pid     2] close(-1) = -1 EBADF (Bad file descriptor) <0.000001000>",
                     "[pid     1] wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 2 <0.000005000>"] {
            sink.accept(line)
        }
        sink.finish()
        XCTAssertTrue(text.contains("\n    pid program              calls    errors     seconds\n"), text)
        XCTAssertTrue(text.contains("      1 sh                       3         0    0.000016\n"), text)
        XCTAssertTrue(text.contains("      2 sort                     4         1    0.000024\n"), text)
        let perProcess = text.components(separatedBy: "pid program")[1]
        XCTAssertEqual(perProcess.split(separator: "\n").count, 3, "header rest and two processes; a thread is not a process: \(text)")
        // One process: no per-process part (the table stays strace -c's).
        var one = ""
        let single = TraceLineSink(request: TraceRequest(showLines: false, summary: true), firstProgram: "x") { one += $0 }
        single.accept("getpid() = 1 <0.000001000>")
        single.finish()
        XCTAssertFalse(one.contains("pid program"), one)
    }

    func testSinkShowsLinesAndAppendsTheTable() {
        var written = ""
        let sink = TraceLineSink(request: TraceRequest(showLines: true, summary: true)) { written += $0 }
        sink.accept("getpid()                                = 1 <0.000000100>\r")
        sink.accept("exit_group(0)                           = ?")
        sink.finish()
        XCTAssertTrue(written.hasPrefix("getpid()                                = 1\nexit_group(0)                           = ?\n% time"), written)
        XCTAssertTrue(written.contains("         1           getpid\n"))
        var quiet = ""
        let summaryOnly = TraceLineSink(request: TraceRequest(showLines: false, summary: true)) { quiet += $0 }
        summaryOnly.accept("getpid() = 1 <0.000000100>")
        summaryOnly.finish()
        XCTAssertTrue(quiet.hasPrefix("% time"), quiet)
    }

    func testRelayCopiesTheFileToTheTraceFile() throws {
        let directory = NSTemporaryDirectory() + "egg-trace-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let relay = try TraceRelay(request: TraceRequest(outputPath: directory + "/out"), path: directory + "/trace")
        relay.start()
        let handle = FileHandle(forWritingAtPath: directory + "/trace")!
        handle.write(Data("getpid()                                = 1\nclose(-1) = -1 EBADF".utf8))
        handle.write(Data(" (Bad file descriptor)\n".utf8))
        try handle.close()
        relay.finish()
        XCTAssertEqual(try String(contentsOfFile: directory + "/out", encoding: .utf8),
                       "getpid()                                = 1\nclose(-1) = -1 EBADF (Bad file descriptor)\n")
    }

    // MARK: symbolization

    let table = SymbolTable(symbols: [
        .init(start: 0x1000, size: 0x20, name: "crash_inner"),
        .init(start: 0x1020, size: 0x20, name: "crash_outer"),
        .init(start: 0x1040, size: 0x40, name: "main"),
        .init(start: 0x2000, size: 0, name: "_start"),
        .init(start: 0x2100, size: 0x10, name: "after_start"),
    ])

    func testAddressesResolveToFunctionPlusOffset() {
        XCTAssertEqual(table.describe(0x1000), "crash_inner+0x0")
        XCTAssertEqual(table.describe(0x1007), "crash_inner+0x7")
        XCTAssertEqual(table.describe(0x104c), "main+0xc")
        XCTAssertNil(table.describe(0x0fff))
        XCTAssertNil(table.describe(0x1080), "past the end of main and no sizeless label before it")
        XCTAssertEqual(table.describe(0x2010), "_start+0x10", "a sizeless label covers up to the next symbol")
    }

    func testFunctionsWinOverLabelsAtOrInsideThem() {
        let kernel = SymbolTable(symbols: [
            .init(start: 0x7f80_0010_1000, size: 0, name: "__text_start"),
            .init(start: 0x7f80_0010_1000, size: 0x20, name: "explode"),
            .init(start: 0x7f80_0010_1010, size: 0, name: "local_loop"),
        ])
        XCTAssertEqual(kernel.describe(0x7f80_0010_1009), "explode+0x9")
        XCTAssertEqual(kernel.describe(0x7f80_0010_1018), "explode+0x18")
        XCTAssertEqual(kernel.describe(0x7f80_0010_1030), "local_loop+0x20", "past the function: the label")
    }

    func testCrashLineBecomesNamedFrames() {
        let lines = symbolizeCrash(controlLine: "crash ip 0x1007 bt 0x102c 0x1050", guest: table, loadBase: 0,
                                   programName: "/prog")
        XCTAssertEqual(lines, [
            "/prog: ip 0x1007 is in crash_inner+0x7",
            "/prog: backtrace (frame pointers):",
            "  #0 0x1007 in crash_inner+0x7",
            "  #1 0x102c in crash_outer+0xc",
            "  #2 0x1050 in main+0x10",
        ])
        let pie = symbolizeCrash(controlLine: "crash ip 0x555555555007", guest: table, loadBase: 0x5555_5555_4000,
                                 programName: "/pie")
        XCTAssertEqual(pie, ["/pie: ip 0x555555555007 is in crash_inner+0x7"])
        XCTAssertEqual(symbolizeCrash(controlLine: "crash ip 0x9999", guest: table, loadBase: 0, programName: "/p"),
                       ["/p: ip 0x9999 is in ??"])
        XCTAssertEqual(symbolizeCrash(controlLine: "boot-tsc 1", guest: table, loadBase: 0, programName: "/p"), [])
    }

    func testFramelessLeafUsesTheReturnAddressOnTheStackOnlyAfterADirectCall() {
        // The minimal program, with its first instruction replaced by `call .` (E8 FB FF FF FF:
        // a call to 0x400078 from 0x400078, returning to 0x40007d).
        var program = minimalExitExecutable()
        program.replaceSubrange(0x78..<0x7d, with: [0xE8, 0xFB, 0xFF, 0xFF, 0xFF])
        let code = GuestCode(executable: program)
        XCTAssertEqual(code.read(0x400078, count: 1), [0xE8])
        XCTAssertTrue(code.isReturnFromDirectCall(0x40007d, to: 0x400078))
        XCTAssertFalse(code.isReturnFromDirectCall(0x40007d, to: 0x400070))
        XCTAssertFalse(code.isReturnFromDirectCall(0x40007e, to: 0x400078))
        let symbols = SymbolTable(symbols: [.init(start: 0x400078, size: 12, name: "leaf")])
        let lines = symbolizeCrash(controlLine: "crash ip 0x40007a top 0x40007d bt 0x400100", guest: symbols,
                                   loadBase: 0, programName: "/p", code: code)
        XCTAssertEqual(lines[3], "  #1 0x40007d in leaf+0x5")
        let notACall = symbolizeCrash(controlLine: "crash ip 0x40007a top 0x400079 bt 0x400100", guest: symbols,
                                      loadBase: 0, programName: "/p", code: code)
        XCTAssertEqual(notACall.count, 4, "a stack word that follows no call is not a frame")
    }

    func testSymbolsComeFromARealELFFile() {
        guard let own = SymbolTable(path: "/proc/self/exe") else { return XCTFail("libelf could not read the test binary") }
        XCTAssertGreaterThan(own.symbols.count, 100)
        guard let main = own.symbols.first(where: { $0.name == "main" }) else { return XCTFail("no main symbol") }
        XCTAssertEqual(own.describe(main.start + 3), "main+0x3")
    }

    func testPanicRipIsLookedUpInTheKernel() {
        let kernel = SymbolTable(symbols: [.init(start: 0x7f80_0001_0000, size: 0x100, name: "kfunc")])
        XCTAssertEqual(symbolizePanic(message: "Page fault (vector 14, error 0x2) at rip 0x7f8000010010, address 0x0",
                                      kernel: kernel),
                       ["kernel rip 0x7f8000010010 is in kfunc+0x10"])
        XCTAssertEqual(symbolizePanic(message: "kernel heap exhausted", kernel: kernel), [])
    }
}
