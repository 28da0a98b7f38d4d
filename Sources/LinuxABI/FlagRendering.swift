// FlagRendering — strace-style text for flag sets and named constants (LinuxABI layer).
//
// The rules follow strace 6.1's printflags_ex / printxval (src/xlat.c), checked against the
// real strace on this machine:
//   flags:  names joined by "|" in table order, a multi-bit entry (O_SYNC, O_TMPFILE) consumes
//           its bits before the single-bit ones it contains; leftover bits as "|0x..."; a
//           value with no known bit at all as "0x8 /* GRND_??? */"; zero as the table's
//           zero name (PROT_NONE) or "0".
//   values: the name, or "0x5 /* SEEK_??? */".
// The constant tables themselves live beside their types (FileConstants.swift,
// MemoryConstants.swift, ProcessConstants.swift, Signals.swift, Ioctl.swift).

/// One entry of a flag or constant table.
public struct NamedValue: Sendable {
    public let value: UInt64
    public let name: StaticString

    public init(_ value: UInt64, _ name: StaticString) {
        self.value = value
        self.name = name
    }
}

/// strace's rendering of the flag word `value` against `table` (see the file comment).
/// `unknownComment` is the "PREFIX_???" text used when no bit has a name; with nil such a
/// value prints as bare hex (strace does that for the flags after an access mode).
public func renderFlags(_ value: UInt64, table: [NamedValue], unknownComment: StaticString?) -> String {
    if value == 0 {
        for entry in table where entry.value == 0 { return stringFromStatic(entry.name) }
        return "0"
    }
    var text = ""
    var rest = value
    for entry in table where entry.value != 0 && rest & entry.value == entry.value {
        if !text.isEmpty { text += "|" }
        appendStaticString(entry.name, to: &text)
        rest &= ~entry.value
    }
    if rest != 0 {
        if text.isEmpty {
            guard let comment = unknownComment else { return hexString(rest) }
            return unknownValueText(rest, unknownComment: comment)
        }
        text += "|" + hexString(rest)
    }
    return text
}

/// strace's rendering of a constant: its name, or "0x5 /* SEEK_??? */".
public func renderValue(_ value: UInt64, table: [NamedValue], unknownComment: StaticString) -> String {
    if let name = lookupName(value, in: table) { return stringFromStatic(name) }
    return unknownValueText(value, unknownComment: unknownComment)
}

/// The name of `value` in `table`, first match wins.
public func lookupName(_ value: UInt64, in table: [NamedValue]) -> StaticString? {
    for entry in table where entry.value == value { return entry.name }
    return nil
}

/// The value named `name` in `table`, for filters and tests.
public func lookupValue(named name: String, in table: [NamedValue]) -> UInt64? {
    for entry in table where staticStringEquals(entry.name, name) { return entry.value }
    return nil
}

func unknownValueText(_ value: UInt64, unknownComment: StaticString) -> String {
    var text = hexString(value) + " /* "
    appendStaticString(unknownComment, to: &text)
    return text + " */"
}

/// A Linux flag word with a strace name table. Conforming OptionSets get `straceDescription`.
public protocol LinuxFlagSet: OptionSet where RawValue: FixedWidthInteger {
    /// Table in strace's print order.
    static var names: [NamedValue] { get }
    /// "O_???", "PROT_???"...
    static var unknownComment: StaticString { get }
}

extension LinuxFlagSet {
    public var straceDescription: String {
        renderFlags(UInt64(truncatingIfNeeded: rawValue), table: Self.names,
                    unknownComment: Self.unknownComment)
    }

    /// The bits of `rawValue` that have no name in the table (for EINVAL on unknown flags).
    public var unknownBits: RawValue {
        var known: UInt64 = 0
        for entry in Self.names { known |= entry.value }
        return rawValue & ~RawValue(truncatingIfNeeded: known)
    }
}

/// A Linux enumeration-like constant (a command, an id, a resource) with a strace name table.
public protocol LinuxConstant: Equatable {
    associatedtype RawValue: FixedWidthInteger
    var rawValue: RawValue { get }
    static var names: [NamedValue] { get }
    static var unknownComment: StaticString { get }
}

extension LinuxConstant {
    /// The Linux name ("SEEK_END"), or nil for a value Linux does not define.
    public var name: StaticString? {
        lookupName(UInt64(truncatingIfNeeded: rawValue), in: Self.names)
    }

    public var straceDescription: String {
        renderValue(UInt64(truncatingIfNeeded: rawValue), table: Self.names,
                    unknownComment: Self.unknownComment)
    }
}
