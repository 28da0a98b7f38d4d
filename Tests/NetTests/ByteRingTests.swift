// ByteRingTests — the socket buffer ring (Sources/Net/PacketBytes.swift): order kept across
// wrap-around and growth, memory taken only as bytes arrive, the capacity never exceeded.
import XCTest
@testable import Net

final class ByteRingTests: XCTestCase {
    func testMemoryGrowsOnlyWithTheBytesHeld() {
        var ring = ByteRing(capacity: 128 * 1024)
        XCTAssertEqual(ring.reservedBytes, 0)
        ring.append([UInt8](repeating: 7, count: 100))
        XCTAssertEqual(ring.reservedBytes, 2048)
        ring.append([UInt8](repeating: 8, count: 5000))
        XCTAssertEqual(ring.reservedBytes, 8192)
        XCTAssertEqual(ring.count, 5100)
        XCTAssertEqual(ring.append([UInt8](repeating: 9, count: 200_000)), 128 * 1024 - 5100)
        XCTAssertEqual(ring.reservedBytes, 128 * 1024)
        XCTAssertEqual(ring.free, 0)
    }

    func testOrderSurvivesWrapAroundAndGrowth() {
        var ring = ByteRing(capacity: 10_000)
        var model: [UInt8] = []
        var next: UInt8 = 0
        var seed: UInt64 = 12345
        for _ in 0..<2000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let n = Int(seed >> 33) % 900
            if seed & 1 == 0 {
                var chunk: [UInt8] = []
                for _ in 0..<n { chunk.append(next); next &+= 1 }
                let taken = ring.append(chunk)
                XCTAssertEqual(taken, min(n, 10_000 - model.count))
                model += chunk[0..<taken]
            } else {
                let out = ring.read(n)
                XCTAssertEqual(out, Array(model.prefix(n)))
                model.removeFirst(out.count)
            }
            XCTAssertEqual(ring.count, model.count)
            XCTAssertLessThanOrEqual(ring.reservedBytes, 10_000)
        }
        XCTAssertEqual(ring.peek(offset: 3, count: 50), Array(model.dropFirst(3).prefix(50)))
    }
}
