// hello.swift — a full (non-embedded) Swift program linked with `swiftc -static-executable`
// (glibc-based, ~10 MB). It exercises the parts of the Swift runtime a real program meets at
// start-up and soon after: String (interpolation, Unicode, splitting), Array (sort, map,
// reduce), Dictionary (hashing seeded from getrandom), and CommandLine.arguments (which the
// runtime reads from the initial stack; it also readlinks /proc/self/exe at start-up).
// Prints one verdict line; the runner passes `-- alpha "beta gamma"`.
// Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

func fail(_ why: String) -> Never {
    print("FAIL hello-swift: \(why)")
    exit(1)
}

func check(_ condition: Bool, _ why: @autoclosure () -> String) {
    if !condition { fail(why()) }
}

@main
struct HelloSwift {
    static func main() {
        let args = CommandLine.arguments
        check(args.count == 3, "expected 2 arguments, got \(args.count - 1): \(args.dropFirst())")
        check(args[1] == "alpha" && args[2] == "beta gamma",
              "arguments are \(args.dropFirst()), expected [alpha, beta gamma]")
        check(!args[0].isEmpty, "argv[0] is empty")

        // String: interpolation, grapheme clusters, splitting and joining.
        let greeting = "héllo, wörld 🌍"
        check(greeting.count == 14, "character count \(greeting.count), expected 14")
        check(greeting.utf8.count == 19, "UTF-8 length \(greeting.utf8.count), expected 19")
        let words = "the quick brown fox".split(separator: " ").map(String.init)
        check(words.count == 4 && words.joined(separator: "-") == "the-quick-brown-fox",
              "split/join gave \(words)")
        check(greeting.uppercased().hasPrefix("HÉLLO"), "uppercased is \(greeting.uppercased())")

        // Array: sort, map, filter, reduce over a few thousand elements.
        var numbers = (0..<5000).map { ($0 * 7919) % 5003 }
        numbers.sort()
        check(zip(numbers, numbers.dropFirst()).allSatisfy { $0 <= $1 }, "sort is not ordered")
        let evenSum = numbers.filter { $0 % 2 == 0 }.reduce(0, +)
        let expectedEvenSum = (0..<5000).map { ($0 * 7919) % 5003 }.filter { $0 % 2 == 0 }
            .reduce(0) { $0 + $1 }
        check(evenSum == expectedEvenSum, "reduce gave \(evenSum), expected \(expectedEvenSum)")

        // Dictionary: counts of letters; hashing is seeded at random per process.
        var counts: [Character: Int] = [:]
        for ch in "mississippi" { counts[ch, default: 0] += 1 }
        check(counts == ["m": 1, "i": 4, "s": 4, "p": 2], "letter counts are \(counts)")
        let keys = counts.keys.sorted()
        check(String(keys) == "imps", "sorted keys are \(keys)")

        print("PASS hello-swift: \(args.count - 1) args, \(numbers.count) sorted, \(counts.count) keys")
    }
}
