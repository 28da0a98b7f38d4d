// CMOSClock — wall-clock time from the MC146818-compatible RTC (Drivers layer).
//
// Read once at boot; the kernel then advances realtime with the TSC (Sources/Kernel/Clock.swift).
// Registers 0x00-0x09 and status B (0x0B) per the MC146818A data sheet; the update-in-progress
// flag (status A bit 7) is waited out and two equal reads are required.

public struct CMOSClock<IO: PortIO> {
    public let io: IO
    public init(io: IO) { self.io = io }

    private func register(_ index: UInt8) -> UInt8 {
        io.write8(0x70, index)
        return io.read8(0x71)
    }

    private func snapshot() -> [UInt8] {
        var spins = 0
        while register(0x0A) & 0x80 != 0 && spins < 1_000_000 { spins += 1 }
        return [register(0x00), register(0x02), register(0x04), register(0x07), register(0x08),
                register(0x09), register(0x32)]
    }

    /// Seconds since the Unix epoch, or nil if the clock reads nonsense.
    public func unixTime() -> Int64? {
        var a = snapshot()
        var b = snapshot()
        var tries = 0
        while a != b && tries < 5 { a = b; b = snapshot(); tries += 1 }
        return CMOSClock.decode(raw: b, statusB: register(0x0B))
    }

    /// Pure decoding, host-tested: raw = [sec, min, hour, day, month, year, century].
    public static func decode(raw: [UInt8], statusB: UInt8) -> Int64? {
        let binary = statusB & 0x04 != 0
        let hour24 = statusB & 0x02 != 0
        func value(_ v: UInt8) -> Int64 { binary ? Int64(v) : Int64((v >> 4) * 10 + (v & 0x0F)) }
        let second = value(raw[0]), minute = value(raw[1])
        var hour = value(raw[2] & 0x7F)
        if !hour24 {
            let pm = raw[2] & 0x80 != 0
            hour = hour % 12 + (pm ? 12 : 0)
        }
        let day = value(raw[3]), month = value(raw[4])
        var year = value(raw[5])
        let century = raw[6] == 0 ? 20 : value(raw[6])
        year += (century >= 19 && century <= 21 ? century : 20) * 100
        guard second < 60, minute < 60, hour < 24, (1...31).contains(day), (1...12).contains(month) else { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (the well-known era-based
    /// algorithm, written from its description in H. Hinnant's "chrono-Compatible Low-Level
    /// Date Algorithms").
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * m + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }
}
