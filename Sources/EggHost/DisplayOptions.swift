// DisplayOptions — `egg run --display`: where QEMU shows the guest's screen (EggHost layer,
// host only; pure apart from the two probes at the end).
//
// Without --display QEMU runs headless (-display none -vga none; QEMUCommand.swift). With it
// the machine gets QEMU's standard VGA (the Bochs display the kernel programs to
// 1024x768x32 and serves as /dev/fb0: Sources/Kernel/FramebufferSetup.swift) and:
//  - a window (QEMU's gtk display, else sdl) when a graphical session is there ($DISPLAY or
//    $WAYLAND_DISPLAY) and this QEMU has that display built in (`-display help` lists it;
//    Debian ships them in qemu-system-gui);
//  - otherwise a VNC server on 127.0.0.1 at the first free port from 5900 (QEMU's
//    `-display vnc=HOST:N` listens on 5900+N; docs/system/invocation: -vnc), and egg says so
//    on stderr with the reason, so the screen can be watched with any VNC viewer.
// Keys typed in the window go to the PS/2 keyboard, which feeds the console terminal.
import Foundation

public enum DisplayPlan: Equatable, Sendable {
    /// QEMU's own window: "gtk" or "sdl".
    case window(String)
    /// VNC on 127.0.0.1:port; `reason` says why not a window.
    case vnc(port: Int, reason: String)

    /// -display and -vga for QEMU.
    public var qemuArguments: [String] {
        switch self {
        case .window(let backend): return ["-display", backend, "-vga", "std"]
        case .vnc(let port, _): return ["-display", "vnc=127.0.0.1:\(port - 5900)", "-vga", "std"]
        }
    }

    /// What egg prints on stderr before the run.
    public var message: String {
        switch self {
        case .window(let backend): return "display: QEMU's \(backend) window"
        case .vnc(let port, let reason): return "display: VNC on 127.0.0.1:\(port) (VNC display :\(port - 5900)); \(reason)"
        }
    }
}

/// Chooses the display: a window when `environment` has a graphical session and `backends`
/// (QEMU's `-display help` list) has gtk or sdl, else VNC on the port `freeVNCPort` finds
/// (nil when every port 5900-5999 is taken).
public func planDisplay(environment: [String: String], backends: Set<String>,
                        freeVNCPort: () -> Int?) -> Result<DisplayPlan, EggRefusal> {
    let graphical = !(environment["DISPLAY"] ?? "").isEmpty || !(environment["WAYLAND_DISPLAY"] ?? "").isEmpty
    if graphical {
        for backend in ["gtk", "sdl"] where backends.contains(backend) { return .success(.window(backend)) }
    }
    let reason = graphical ? "this QEMU has no gtk or sdl display (Debian: apt-get install qemu-system-gui)"
                           : "no graphical session ($DISPLAY and $WAYLAND_DISPLAY are unset)"
    guard let port = freeVNCPort() else {
        return .failure(EggRefusal("--display: \(reason), and no free VNC port in 5900-5999"))
    }
    return .success(.vnc(port: port, reason: reason))
}

/// The display back ends `qemu -display help` lists (one name per line after the heading).
public func parseDisplayHelp(_ text: String) -> Set<String> {
    var names = Set<String>()
    for line in text.split(whereSeparator: \.isNewline) {
        let word = line.trimmingCharacters(in: .whitespaces)
        if word.isEmpty || word.contains(" ") || word.hasSuffix(":") { continue }
        names.insert(word)
    }
    return names
}

/// Asks QEMU which display back ends it has (modules it cannot load are not listed).
public func availableDisplayBackends(qemu: String) -> Set<String> {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: qemu)
    process.arguments = ["-display", "help"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { return [] }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return parseDisplayHelp(String(decoding: data, as: UTF8.self))
}

/// The first TCP port from 5900 that nothing listens on at 127.0.0.1 (bind succeeds).
public func firstFreeVNCPort() -> Int? {
    for port in 5900..<6000 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if bound == 0 { return port }
    }
    return nil
}
