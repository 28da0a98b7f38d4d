// TextFormatting — small text helpers for the LinuxABI name tables and strace-style rendering
// (LinuxABI layer). Embedded Swift has no String(format:) and StaticString has no cheap
// conversion, so the few conversions the trace formatter needs live here: StaticString
// comparison and appending, decimal / hex / octal numbers as strace prints them
// ("%d", "%#x", "%#03o"). Flag and constant rendering built on these is in FlagRendering.swift.

/// True when the StaticString `a` spells exactly the same UTF-8 bytes as `b`.
public func staticStringEquals(_ a: StaticString, _ b: String) -> Bool {
    // withUTF8Buffer hands out a read-only buffer over the literal; it is only iterated here.
    a.withUTF8Buffer { literal in
        var other = b.utf8.makeIterator()
        for byte in literal {
            guard let next = other.next(), next == byte else { return false }
        }
        return other.next() == nil
    }
}

/// Appends the text of a StaticString to `text`.
public func appendStaticString(_ s: StaticString, to text: inout String) {
    s.withUTF8Buffer { literal in
        text += String(decoding: literal, as: UTF8.self)
    }
}

/// The text of a StaticString as a String.
public func stringFromStatic(_ s: StaticString) -> String {
    var text = ""
    appendStaticString(s, to: &text)
    return text
}

/// Digits of `value` in `radix` (2...16), most significant first, no prefix.
func unsignedDigits(_ value: UInt64, radix: UInt64) -> String {
    if value == 0 { return "0" }
    var reversed: [UInt8] = []
    var rest = value
    while rest != 0 {
        let digit = UInt8(truncatingIfNeeded: rest % radix)
        reversed.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
        rest /= radix
    }
    return String(decoding: reversed.reversed(), as: UTF8.self)
}

/// "%lld": signed decimal.
public func decimalString(_ value: Int64) -> String {
    if value < 0 {
        // magnitude handles Int64.min without overflow.
        return "-" + unsignedDigits(value.magnitude, radix: 10)
    }
    return unsignedDigits(UInt64(value), radix: 10)
}

/// "%llu": unsigned decimal.
public func unsignedDecimalString(_ value: UInt64) -> String {
    unsignedDigits(value, radix: 10)
}

/// "%#llx": "0x1f", and "0" for zero (C's '#' flag adds no prefix to 0).
public func hexString(_ value: UInt64) -> String {
    value == 0 ? "0" : "0x" + unsignedDigits(value, radix: 16)
}

/// "%#03o" as strace prints file modes: at least three digits with a leading 0
/// ("000", "001", "0644", "04755").
public func octalModeString(_ value: UInt64) -> String {
    var digits = unsignedDigits(value, radix: 8)
    if value != 0 { digits = "0" + digits }
    while digits.utf8.count < 3 { digits = "0" + digits }
    return digits
}
