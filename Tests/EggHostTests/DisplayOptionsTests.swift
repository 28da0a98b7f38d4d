// DisplayOptionsTests — `egg run --display` (Sources/EggHost/DisplayOptions.swift) and the
// QEMU command lines it gives (QEMUCommand.swift, ISORun.swift); also the terminal-mode
// control port (HostStreams.swift, HostStreamPlan.controlOnly*).
import EggHost
import XCTest

final class DisplayOptionsTests: XCTestCase {
    let base = QEMUConfiguration(kernelPath: "/k/kernel.elf", bundlePath: "/t/bundle", controlPath: "/t/control")

    func value(_ args: [String], _ option: String) -> String? {
        guard let i = args.firstIndex(of: option), i + 1 < args.count else { return nil }
        return args[i + 1]
    }

    func testWithoutDisplayQEMUIsHeadless() {
        XCTAssertEqual(value(base.arguments, "-display"), "none")
        XCTAssertEqual(value(base.arguments, "-vga"), "none")
    }

    func testAWindowWhenAGraphicalSessionAndGTKExist() throws {
        let plan = try planDisplay(environment: ["DISPLAY": ":0"], backends: ["none", "gtk", "sdl"],
                                   freeVNCPort: { XCTFail("no VNC port needed"); return nil }).get()
        XCTAssertEqual(plan, .window("gtk"))
        var c = base
        c.display = plan
        XCTAssertEqual(value(c.arguments, "-display"), "gtk")
        XCTAssertEqual(value(c.arguments, "-vga"), "std")
        XCTAssertEqual(c.arguments.filter { $0 == "-display" }.count, 1)
    }

    func testSDLWhenGTKIsMissingAndWaylandCounts() throws {
        let plan = try planDisplay(environment: ["WAYLAND_DISPLAY": "wayland-0"], backends: ["sdl"],
                                   freeVNCPort: { nil }).get()
        XCTAssertEqual(plan, .window("sdl"))
    }

    func testVNCWithoutAGraphicalSessionSaysWhy() throws {
        let plan = try planDisplay(environment: ["DISPLAY": ""], backends: ["gtk"], freeVNCPort: { 5903 }).get()
        guard case .vnc(let port, let reason) = plan else { return XCTFail("\(plan)") }
        XCTAssertEqual(port, 5903)
        XCTAssertTrue(reason.contains("DISPLAY"), reason)
        XCTAssertTrue(plan.message.contains("127.0.0.1:5903"), plan.message)
        var c = base
        c.display = plan
        XCTAssertEqual(value(c.arguments, "-display"), "vnc=127.0.0.1:3")
        XCTAssertEqual(value(c.arguments, "-vga"), "std")
    }

    func testVNCWhenQEMUHasNoWindowBackend() throws {
        // This machine's QEMU without qemu-system-gui: `-display help` lists no gtk or sdl.
        let backends = parseDisplayHelp("Available display backend types:\nnone\negl-headless\ncurses\nspice-app\ndbus\n")
        XCTAssertEqual(backends, ["none", "egl-headless", "curses", "spice-app", "dbus"])
        let plan = try planDisplay(environment: ["DISPLAY": ":0"], backends: backends, freeVNCPort: { 5900 }).get()
        guard case .vnc(5900, let reason) = plan else { return XCTFail("\(plan)") }
        XCTAssertTrue(reason.contains("qemu-system-gui"), reason)
    }

    func testNoFreeVNCPortIsARefusal() {
        guard case .failure(let problem) = planDisplay(environment: [:], backends: [], freeVNCPort: { nil }) else {
            return XCTFail("expected a refusal")
        }
        XCTAssertTrue(problem.message.contains("5900"), problem.message)
    }

    func testImagesTakeTheDisplayToo() {
        var c = ISOQEMUConfiguration(imagePath: "/i/app.iso", controlPath: "/t/control")
        XCTAssertEqual(value(c.arguments, "-display"), "none")
        c.display = .vnc(port: 5901, reason: "test")
        XCTAssertEqual(value(c.arguments, "-display"), "vnc=127.0.0.1:1")
        XCTAssertEqual(value(c.arguments, "-vga"), "std")
    }

    // MARK: terminal mode's control port

    func testTerminalModeGetsAControlOnlyVirtioConsole() {
        XCTAssertTrue(HostStreamPlan.controlOnlyWanted(stdinIsTerminal: true, stdoutIsTerminal: true, machine: .pc))
        XCTAssertFalse(HostStreamPlan.controlOnlyWanted(stdinIsTerminal: true, stdoutIsTerminal: false, machine: .pc))
        XCTAssertTrue(HostStreamPlan.controlOnlyWanted(stdinIsTerminal: true, stdoutIsTerminal: true, machine: .microvm))
        var c = base
        c.console = ConsoleMode(stdinIsTerminal: true)
        c.hostControl = true
        let args = c.arguments
        XCTAssertTrue(args.contains("stdio,id=console,signal=off"), "the UART keeps stdio")
        XCTAssertTrue(args.contains("virtserialport,bus=eggstdio.0,nr=1,chardev=eggport3,name=egg.control"))
        XCTAssertTrue(args.contains("socket,id=eggport3,fd=3"))
        XCTAssertFalse(args.contains { $0.contains("name=egg.stdin") })
        // With the full host streams the control-only device is not added a second time.
        c.hostStreams = true
        XCTAssertEqual(c.arguments.filter { $0.hasPrefix("virtio-serial-pci") }.count, 1)
    }

    /// microvm has no PCI: the same console on virtio-mmio, modern, with one -global only.
    func testMicrovmGetsAVirtioMMIOConsole() {
        var c = base
        c.machine = .microvm
        c.hostStreams = true
        var args = c.arguments
        XCTAssertTrue(args.contains("virtio-serial-device,id=eggstdio,max_ports=5"), "\(args)")
        XCTAssertFalse(args.contains { $0.hasPrefix("virtio-serial-pci") })
        XCTAssertEqual(args.filter { $0 == "virtio-mmio.force-legacy=false" }.count, 1)
        c.network = GuestNetwork(forwards: [], mmio: true)
        args = c.arguments
        XCTAssertEqual(args.filter { $0 == "virtio-mmio.force-legacy=false" }.count, 1, "\(args)")
    }

    func testWindowSizeLine() {
        XCTAssertEqual(HostStreamPlan.windowSizeLine(rows: 41, columns: 120), Array("winsize 41 120\n".utf8))
    }
}
