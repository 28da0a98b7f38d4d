// hello.swift (embedded) — an Embedded Swift program for Linux user space: compiled with
// `-enable-experimental-feature Embedded` for x86_64-unknown-linux-gnu to an object and
// linked with `musl-gcc -static`, so the C library is musl and the Swift runtime hooks come
// from it (putchar for print, posix_memalign/free for allocation) plus support.c
// (arc4random_buf, which musl 1.2.3 lacks and Dictionary's hash seeding needs).
// Embedded Swift has no CommandLine, so main takes argc/argv the C way.
// Checks String, Array, Dictionary and the arguments `-- alpha "beta gamma"`; prints one
// verdict line. Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.

func cString(_ p: UnsafeMutablePointer<CChar>) -> String {
    // Embedded Swift lacks String(cString:) on some versions; decode the bytes by hand.
    var bytes: [UInt8] = []
    var i = 0
    while p[i] != 0 {
        bytes.append(UInt8(bitPattern: p[i]))
        i += 1
    }
    return String(decoding: bytes, as: UTF8.self)
}

func verdict(_ ok: Bool, _ why: String) -> Int32 {
    if ok {
        print("PASS hello-embedded: " + why)
        return 0
    }
    print("FAIL hello-embedded: " + why)
    return 1
}

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var args: [String] = []
    for i in 0..<Int(argc) {
        guard let p = argv[i] else { return verdict(false, "argv[\(i)] is NULL") }
        args.append(cString(p))
    }
    if argv[Int(argc)] != nil { return verdict(false, "argv[argc] is not NULL") }
    if args.count != 3 || args[1] != "alpha" || args[2] != "beta gamma" {
        return verdict(false, "expected arguments alpha, beta gamma; got \(args.count - 1)")
    }

    // Array and closures.
    var numbers: [Int] = []
    for i in 0..<1000 { numbers.append((i * 7919) % 1009) }
    numbers.sort()
    for i in 1..<numbers.count where numbers[i - 1] > numbers[i] {
        return verdict(false, "sort is not ordered at \(i)")
    }
    let sum = numbers.reduce(0, +)
    var expected = 0
    for i in 0..<1000 { expected += (i * 7919) % 1009 }
    if sum != expected { return verdict(false, "sum \(sum) != \(expected)") }

    // String building and comparison.
    var s = ""
    for w in ["egg", "runs", "embedded", "swift"] { s += s.isEmpty ? w : " " + w }
    if s != "egg runs embedded swift" || s.utf8.count != 23 {
        return verdict(false, "string building gave '\(s)'")
    }

    // Dictionary: hashing is seeded through arc4random_buf.
    var counts: [UInt8: Int] = [:]
    for b in "mississippi".utf8 { counts[b, default: 0] += 1 }
    if counts.count != 4 || counts[UInt8(ascii: "s")] != 4 || counts[UInt8(ascii: "p")] != 2 {
        return verdict(false, "letter counts wrong (\(counts.count) keys)")
    }
    return verdict(true, "\(args.count - 1) args, sum \(sum), \(counts.count) keys")
}
