// httpd.swift — the C httpd (Guest/c/httpd.c) in Swift: one thread, non-blocking sockets,
// level-triggered epoll, HTTP/1.1 keep-alive, through Glibc only (no Foundation), built
// with `swiftc -static-executable -import-objc-header glibc_epoll.h` (Glibc's module map has
// no sys/epoll.h). Layer: guest programs; Tests/integration/net.sh drives it.
//
// Usage: httpd-swift PORT. GET / answers "hello from httpd\n", GET /exit answers "bye\n" and
// exits 0 with "PASS httpd-swift: N requests", anything else is 404. Prints
// "httpd-swift: listening on port N" when ready.
import Glibc

let okBody = Array("hello from httpd\n".utf8)
let maximumRequest = 8192

final class Connection {
    let fd: Int32
    var input: [UInt8] = []
    var output: [UInt8] = []
    var outputOffset = 0
    var closeAfterWrite = false
    init(fd: Int32) { self.fd = fd }
}

func fatal(_ what: String) -> Never {
    let text = "FAIL httpd-swift: \(what): \(String(cString: strerror(errno)))\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

func say(_ text: String) {
    _ = text.withCString { write(1, $0, strlen($0)) }
}

func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int = 0, to end: Int? = nil) -> Int? {
    let limit = (end ?? haystack.count) - needle.count
    guard limit >= start else { return nil }
    var i = start
    while i <= limit {
        var match = true
        for j in 0..<needle.count where haystack[i + j] != needle[j] { match = false; break }
        if match { return i }
        i += 1
    }
    return nil
}

func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
    String(decoding: bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
}

struct Server {
    let epoll: Int32
    let listener: Int32
    var connections: [Int32: Connection] = [:]
    var requests = 0
    var exitRequested = false

    mutating func respond(_ c: Connection, status: String, body: [UInt8], headOnly: Bool, keepAlive: Bool) {
        let header = "HTTP/1.1 \(status)\r\nServer: egg-httpd-swift\r\nContent-Type: text/plain\r\n"
            + "Content-Length: \(body.count)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
        c.output.append(contentsOf: Array(header.utf8))
        if !headOnly { c.output.append(contentsOf: body) }
        if !keepAlive { c.closeAfterWrite = true }
    }

    /// Answers every complete request in the input; false for a malformed one.
    mutating func handleRequests(_ c: Connection) -> Bool {
        let crlf: [UInt8] = [13, 10]
        while let end = find([13, 10, 13, 10], in: c.input) {
            guard let lineEnd = find(crlf, in: c.input, to: end + 2) else { return false }
            let words = c.input[0..<lineEnd].split(separator: 32)
            guard words.count == 3 else { return false }
            let method = String(decoding: words[0], as: UTF8.self)
            let path = String(decoding: words[1], as: UTF8.self)
            let http10 = String(decoding: words[2], as: UTF8.self) == "HTTP/1.0"
            var connectionHeader = ""
            for line in c.input[(lineEnd + 2)..<(end + 2)].split(separator: 10) {
                let text = lowercased(line)
                if text.hasPrefix("connection:") { connectionHeader = text }
            }
            let keepAlive = http10 ? connectionHeader.contains("keep-alive") : !connectionHeader.contains("close")
            let head = method == "HEAD"
            requests += 1
            if method != "GET" && !head {
                respond(c, status: "405 Method Not Allowed", body: Array("method not allowed\n".utf8), headOnly: false, keepAlive: keepAlive)
            } else if path == "/" {
                respond(c, status: "200 OK", body: okBody, headOnly: head, keepAlive: keepAlive)
            } else if path == "/exit" {
                respond(c, status: "200 OK", body: Array("bye\n".utf8), headOnly: head, keepAlive: false)
                exitRequested = true
            } else {
                respond(c, status: "404 Not Found", body: Array("not found\n".utf8), headOnly: head, keepAlive: keepAlive)
            }
            c.input.removeFirst(end + 4)
            if c.closeAfterWrite { c.input.removeAll(); break }
        }
        if c.input.count >= maximumRequest { return false }
        return true
    }

    mutating func close(_ c: Connection) {
        epoll_ctl(epoll, Int32(EPOLL_CTL_DEL), c.fd, nil)
        Glibc.close(c.fd)
        connections[c.fd] = nil
    }

    func watch(_ c: Connection, writable: Bool, add: Bool = false) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (writable ? EPOLLOUT.rawValue : 0)
        event.data.fd = c.fd
        if epoll_ctl(epoll, Int32(add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD), c.fd, &event) != 0 { fatal("epoll_ctl") }
    }

    /// Writes what the socket takes: true when all went out, false when full, nil on error.
    func flush(_ c: Connection) -> Bool? {
        while c.outputOffset < c.output.count {
            let n = c.output.withUnsafeBytes { raw in
                write(c.fd, raw.baseAddress! + c.outputOffset, c.output.count - c.outputOffset)
            }
            if n > 0 { c.outputOffset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return false }
            return nil
        }
        c.output.removeAll(keepingCapacity: true)
        c.outputOffset = 0
        return true
    }

    mutating func service(_ c: Connection, events: UInt32) {
        var peerClosed = events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue) != 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { read(c.fd, $0.baseAddress!, $0.count) }
            if n > 0 {
                c.input.append(contentsOf: buffer[0..<n])
            } else if n == 0 {
                peerClosed = true
            } else if errno != EAGAIN && errno != EINTR {
                close(c)
                return
            }
            guard handleRequests(c) else { close(c); return }
        }
        guard let flushed = flush(c) else { close(c); return }
        if flushed && (c.closeAfterWrite || peerClosed) { close(c); return }
        if peerClosed { c.closeAfterWrite = true }
        watch(c, writable: !flushed)
    }

    mutating func acceptOne() {
        // accept + fcntl(O_NONBLOCK): Glibc's module has no accept4 (it needs _GNU_SOURCE).
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else {
            if errno == EAGAIN || errno == EINTR || errno == ECONNABORTED || errno == EMFILE { return }
            fatal("accept")
        }
        if fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 { fatal("fcntl O_NONBLOCK") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let c = Connection(fd: fd)
        connections[fd] = c
        watch(c, writable: false, add: true)
    }
}

@main
struct HTTPDMain {
    static func main() {
        let args = CommandLine.arguments
        guard args.count >= 2, let port = UInt16(args[1]), port > 0 else {
            say("usage: httpd-swift PORT\n")
            exit(2)
        }
        signal(SIGPIPE, SIG_IGN)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        if listener < 0 { fatal("socket") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 { fatal("bind") }
        if listen(listener, 1024) != 0 { fatal("listen") }
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        if epoll < 0 { fatal("epoll_create1") }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = listener
        if epoll_ctl(epoll, Int32(EPOLL_CTL_ADD), listener, &event) != 0 { fatal("epoll_ctl") }
        say("httpd-swift: listening on port \(port)\n")

        var server = Server(epoll: epoll, listener: listener)
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while !server.exitRequested {
            let n = epoll_wait(epoll, &events, Int32(events.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                fatal("epoll_wait")
            }
            for i in 0..<Int(n) {
                let fd = events[i].data.fd
                if fd == listener {
                    server.acceptOne()
                } else if let c = server.connections[fd] {
                    server.service(c, events: events[i].events)
                }
            }
        }
        say("PASS httpd-swift: \(server.requests) requests\n")
        exit(0)
    }
}
