// TerminalStructs — x86-64 layouts of struct winsize (TIOCGWINSZ/TIOCSWINSZ) and the kernel
// struct termios (TCGETS/TCSETS*) (LinuxABI layer).
// Layouts from include/uapi/asm-generic/termios.h and termbits.h: the kernel termios has
// NCCS = 19 and no speed fields (36 bytes), unlike glibc's 60-byte user-space termios, which
// glibc converts. Defaults from drivers/tty/tty_io.c (tty_std_termios) and
// include/linux/tty.h (INIT_C_CC). Flag bits and ioctl numbers are in Ioctl.swift.

/// struct winsize: 8 bytes.
public struct Winsize: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var rows: UInt16
    public var columns: UInt16
    public var xPixels: UInt16
    public var yPixels: UInt16

    public init(rows: UInt16, columns: UInt16, xPixels: UInt16 = 0, yPixels: UInt16 = 0) {
        self.rows = rows
        self.columns = columns
        self.xPixels = xPixels
        self.yPixels = yPixels
    }

    public static let byteSize = 8
    public func encode(into writer: inout ByteWriter) {
        writer.u16(rows)
        writer.u16(columns)
        writer.u16(xPixels)
        writer.u16(yPixels)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> Winsize {
        Winsize(rows: try reader.u16(), columns: try reader.u16(),
                xPixels: try reader.u16(), yPixels: try reader.u16())
    }
}

/// The kernel struct termios: four tcflag_t, c_line, c_cc[19] — 36 bytes.
public struct Termios: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var inputFlags: UInt32
    public var outputFlags: UInt32
    public var controlFlags: UInt32
    public var localFlags: UInt32
    public var lineDiscipline: UInt8
    /// Always TermiosBits.NCCS (19) entries.
    public var controlCharacters: [UInt8]

    public init(inputFlags: UInt32, outputFlags: UInt32, controlFlags: UInt32, localFlags: UInt32,
                lineDiscipline: UInt8 = 0, controlCharacters: [UInt8]) {
        self.inputFlags = inputFlags
        self.outputFlags = outputFlags
        self.controlFlags = controlFlags
        self.localFlags = localFlags
        self.lineDiscipline = lineDiscipline
        var cc = controlCharacters
        while cc.count < TermiosBits.NCCS { cc.append(0) }
        if cc.count > TermiosBits.NCCS { cc = Array(cc[0..<TermiosBits.NCCS]) }
        self.controlCharacters = cc
    }

    /// What a fresh Linux console reports (tty_std_termios): ICRNL|IXON, OPOST|ONLCR,
    /// B38400|CS8|CREAD|HUPCL, ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN, INIT_C_CC.
    public static var linuxDefault: Termios {
        Termios(
            inputFlags: TermiosBits.ICRNL | TermiosBits.IXON,
            outputFlags: TermiosBits.OPOST | TermiosBits.ONLCR,
            controlFlags: TermiosBits.B38400 | TermiosBits.CS8 | TermiosBits.CREAD | TermiosBits.HUPCL,
            localFlags: TermiosBits.ISIG | TermiosBits.ICANON | TermiosBits.ECHO | TermiosBits.ECHOE
                | TermiosBits.ECHOK | TermiosBits.ECHOCTL | TermiosBits.ECHOKE | TermiosBits.IEXTEN,
            controlCharacters: [
                0x03, 0x1c, 0x7f, 0x15, 0x04, 0, 1, 0,  // INTR QUIT ERASE KILL EOF TIME MIN SWTC
                0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0,  // START STOP SUSP EOL REPRINT DISCARD WERASE LNEXT EOL2
            ])
    }

    public var isCanonical: Bool { localFlags & TermiosBits.ICANON != 0 }
    public var echoes: Bool { localFlags & TermiosBits.ECHO != 0 }

    public static let byteSize = 36
    public func encode(into writer: inout ByteWriter) {
        writer.u32(inputFlags)
        writer.u32(outputFlags)
        writer.u32(controlFlags)
        writer.u32(localFlags)
        writer.u8(lineDiscipline)
        for index in 0..<TermiosBits.NCCS {
            writer.u8(index < controlCharacters.count ? controlCharacters[index] : 0)
        }
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> Termios {
        let input = try reader.u32()
        let output = try reader.u32()
        let control = try reader.u32()
        let local = try reader.u32()
        let line = try reader.u8()
        let cc = try reader.raw(TermiosBits.NCCS)
        return Termios(inputFlags: input, outputFlags: output, controlFlags: control,
                       localFlags: local, lineDiscipline: line, controlCharacters: cc)
    }
}
