// TraceRelay — copies the kernel's trace lines to the user while the guest runs (EggHost
// layer, host only).
//
// QEMU writes COM2 into a file in egg's temporary directory (QEMUCommand.swift, tracePath);
// a thread follows that file (polling every 10 ms, like `tail -f`) and hands each complete
// line to `TraceLineSink`, which prints it to stderr or --trace-file and feeds the
// --trace-summary table (TraceSummary.swift). `finish()` drains what is left once QEMU ended.

import Foundation

/// Where trace lines go: pure apart from the final write, so tests drive it with strings.
public final class TraceLineSink {
    public let request: TraceRequest
    public private(set) var summary = TraceSummary()
    let write: (String) -> Void

    public init(request: TraceRequest, firstProgram: String = "", write: @escaping (String) -> Void) {
        self.request = request
        self.write = write
        summary.firstProgram = firstProgram
    }

    public func accept(_ rawLine: String) {
        var line = rawLine
        if line.hasSuffix("\r") { line.removeLast() }
        if request.summary, let parsed = TraceLine(parsing: line) { summary.add(parsed, raw: line) }
        if request.showLines { write(stripDuration(line) + "\n") }
    }

    /// The strace -c table, when asked for.
    public func finish() {
        if request.summary { write(summary.render()) }
    }
}

// @unchecked Sendable: `stopping` is guarded by `lock`; the sink is used by the follower thread
// until `done` is signalled and only then by finish().
public final class TraceRelay: @unchecked Sendable {
    let path: String
    let sink: TraceLineSink
    /// stderr, or --trace-file opened by egg (closed by finish()).
    let output: Int32
    let lock = NSLock()
    var stopping = false
    let done = DispatchSemaphore(value: 0)

    /// Creates the (empty) trace file QEMU will write and opens the destination.
    public init(request: TraceRequest, path: String, firstProgram: String = "") throws(SpawnError) {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw .failed("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        if let outputPath = request.outputPath {
            let fd = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw .failed("--trace-file \(outputPath): \(String(cString: strerror(errno)))")
            }
            output = fd
        } else {
            output = 2
        }
        // write(2), not FileHandle: a closed stderr pipe (EPIPE) must not end egg.
        let fd = output
        sink = TraceLineSink(request: request, firstProgram: firstProgram) { writeIgnoringErrors(fd, Array($0.utf8)) }
    }

    public func start() {
        let thread = Thread { [self] in follow() }
        thread.start()
    }

    func follow() {
        defer { done.signal() }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var finalPass = false
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                pending.append(contentsOf: buffer[0..<n])
                while let newline = pending.firstIndex(of: 0x0A) {
                    sink.accept(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            // At end of file: once QEMU has ended, one more pass reads what it wrote last.
            if finalPass { break }
            lock.lock()
            finalPass = stopping
            lock.unlock()
            if !finalPass { usleep(10_000) }
        }
        if !pending.isEmpty { sink.accept(String(decoding: pending, as: UTF8.self)) }
    }

    /// After QEMU ended: read the rest, print the summary, close --trace-file.
    public func finish() {
        lock.lock()
        stopping = true
        lock.unlock()
        done.wait()
        sink.finish()
        if output != 2 { close(output) }
    }
}
