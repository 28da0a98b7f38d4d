// Randomized model test for VirtualMemoryMap (Sources/KernelCore/Memory/VirtualMemoryMap.swift):
// thousands of seeded random mmap/munmap/mprotect/brk/mremap calls are applied both to the map
// and to a plain per-page reference model of a small address space; after every step the
// results, the errors and the page-by-page contents must agree, and the area list must be
// canonical (sorted, aligned, adjacent compatible areas merged).

import XCTest
import LinuxABI
@testable import KernelCore

/// What one page of the model holds; `backing` carries this page's own file offset.
private struct ModelPage: Equatable {
    var protection: MemoryProtection
    var backing: MappingBacking
    var shared: Bool
    var name: String

    /// Whether `next` (the page above) belongs to the same area in a canonical map.
    func continues(into next: ModelPage) -> Bool {
        protection == next.protection && shared == next.shared && name == next.name
            && backing.advanced(by: MemoryPage.size) == next.backing
    }
}

private struct ReferenceAddressSpace {
    let page = MemoryPage.size
    let minPage: Int
    let basePage: Int
    let topPage: Int
    var pages: [ModelPage?]
    var breakStart: UInt64 = 0
    var currentBreak: UInt64 = 0

    init(layout: AddressSpaceLayout) {
        minPage = Int(layout.mmapMin / MemoryPage.size)
        basePage = Int(layout.mmapBase / MemoryPage.size)
        topPage = Int(layout.userTop / MemoryPage.size)
        pages = [ModelPage?](repeating: nil, count: topPage)
    }

    func address(_ index: Int) -> UInt64 { UInt64(index) * page }
    func index(_ address: UInt64) -> Int { Int(address / page) }

    /// Mapped pages of [from, to) as coalesced ranges.
    func mappedRanges(from: Int, to: Int) -> [AddressRange] {
        var result: [AddressRange] = []
        for i in from..<min(to, topPage) where pages[i] != nil {
            if let last = result.last, last.end == address(i) {
                result[result.count - 1].end = address(i + 1)
            } else {
                result.append(AddressRange(start: address(i), end: address(i + 1)))
            }
        }
        return result
    }

    func isFree(from: Int, to: Int) -> Bool {
        (from..<to).allSatisfy { $0 >= topPage || pages[$0] == nil }
    }

    mutating func clear(from: Int, to: Int) -> [AddressRange] {
        let removed = mappedRanges(from: from, to: to)
        for i in from..<min(to, topPage) { pages[i] = nil }
        return removed
    }

    mutating func fill(from: Int, count: Int, _ first: ModelPage) {
        for k in 0..<count {
            var state = first
            state.backing = first.backing.advanced(by: UInt64(k) * page)
            pages[from + k] = state
        }
    }

    func highestFreeRun(length n: Int, below limit: Int) -> Int? {
        var s = limit - n
        while s >= minPage {
            if isFree(from: s, to: s + n) { return s }
            s -= 1
        }
        return nil
    }

    func roundUpPages(_ length: UInt64) -> Int? {
        MemoryPage.roundUp(length).map { Int($0 / page) }
    }

    mutating func map(at address: UInt64, length: UInt64, placement: MappingPlacement,
                      _ state: ModelPage) -> Result<MapResult, Errno> {
        if length == 0 { return .failure(.EINVAL) }
        guard let n = roundUpPages(length), n <= topPage - minPage else { return .failure(.ENOMEM) }
        var start: Int
        var replaced: [AddressRange] = []
        if placement == .hint {
            var found: Int? = nil
            if address != 0 {
                var s = index(MemoryPage.roundUp(address)!)
                if s < minPage { s = minPage }
                if s + n <= topPage && isFree(from: s, to: s + n) { found = s }
            }
            guard let place = found ?? highestFreeRun(length: n, below: basePage)
                    ?? highestFreeRun(length: n, below: topPage) else { return .failure(.ENOMEM) }
            start = place
        } else {
            if address % page != 0 { return .failure(.EINVAL) }
            start = index(address)
            if start < minPage { return .failure(.EPERM) }
            if start + n > topPage { return .failure(.ENOMEM) }
            if placement == .fixedNoReplace && !isFree(from: start, to: start + n) { return .failure(.EEXIST) }
            replaced = clear(from: start, to: start + n)
        }
        fill(from: start, count: n, state)
        return .success(MapResult(range: AddressRange(start: self.address(start), end: self.address(start + n)),
                                  replaced: replaced))
    }

    mutating func unmap(start: UInt64, length: UInt64) -> Result<[AddressRange], Errno> {
        guard start % page == 0, length > 0, let n = roundUpPages(length),
              start <= address(topPage), n <= topPage - index(start) else { return .failure(.EINVAL) }
        return .success(clear(from: index(start), to: index(start) + n))
    }

    /// Per-page (old, new) protections that changed.
    mutating func protect(start: UInt64, length: UInt64, _ protection: MemoryProtection)
        -> Result<[(UInt64, MemoryProtection, MemoryProtection)], Errno> {
        if start % page != 0 { return .failure(.EINVAL) }
        if length == 0 { return .success([]) }
        guard let n = roundUpPages(length) else { return .failure(.ENOMEM) }
        let s = index(start)
        guard s + n <= topPage, (s..<(s + n)).allSatisfy({ pages[$0] != nil }) else { return .failure(.ENOMEM) }
        var changes: [(UInt64, MemoryProtection, MemoryProtection)] = []
        for i in s..<(s + n) where pages[i]!.protection != protection {
            changes.append((address(i), pages[i]!.protection, protection))
            pages[i]!.protection = protection
        }
        return .success(changes)
    }

    mutating func setBreak(_ requested: UInt64) -> BreakResult {
        let unchanged = BreakResult(breakAddress: currentBreak, mapped: nil, unmapped: [])
        if requested < breakStart { return unchanged }
        guard let newTop = roundUpPages(requested), let oldTop = roundUpPages(currentBreak) else { return unchanged }
        if newTop == oldTop {
            currentBreak = requested
            return BreakResult(breakAddress: requested, mapped: nil, unmapped: [])
        }
        if newTop < oldTop {
            let removed = clear(from: newTop, to: oldTop)
            currentBreak = requested
            return BreakResult(breakAddress: requested, mapped: nil, unmapped: removed)
        }
        guard newTop + 1 <= topPage, isFree(from: oldTop, to: newTop + 1) else { return unchanged }
        fill(from: oldTop, count: newTop - oldTop,
             ModelPage(protection: .readWrite, backing: .heap, shared: false, name: "[heap]"))
        currentBreak = requested
        return BreakResult(breakAddress: requested, mapped: AddressRange(start: address(oldTop), end: address(newTop)),
                           unmapped: [])
    }

    mutating func remap(old: UInt64, oldLength: UInt64, newLength: UInt64, mayMove: Bool,
                        fixed: UInt64?) -> Result<RemapResult, Errno> {
        if old % page != 0 { return .failure(.EINVAL) }
        if fixed != nil && !mayMove { return .failure(.EINVAL) }
        guard let oldN = roundUpPages(oldLength), let newN = roundUpPages(newLength),
              oldN > 0, newN > 0 else { return .failure(.EINVAL) }
        let s = index(old)
        // The old range must lie inside one area: mapped, and each page continuing the last.
        guard s + oldN <= topPage, pages[s] != nil else { return .failure(.EFAULT) }
        for i in (s + 1)..<(s + oldN) {
            guard let here = pages[i], pages[i - 1]!.continues(into: here) else { return .failure(.EFAULT) }
        }
        let first = pages[s]!
        if let target = fixed {
            guard target % page == 0, index(target) >= minPage, index(target) + newN <= topPage else {
                return .failure(.EINVAL)
            }
            let t = index(target)
            if t < s + oldN && s < t + newN { return .failure(.EINVAL) }
            var freed = clear(from: t, to: t + newN)
            if newN < oldN { freed += clear(from: s + newN, to: s + oldN) }
            let movedN = min(newN, oldN)
            _ = clear(from: s, to: s + movedN)
            fill(from: t, count: newN, first)
            return .success(RemapResult(address: target, freed: freed,
                                        move: PageMove(from: AddressRange(start: old, end: address(s + movedN)), to: target)))
        }
        if newN <= oldN {
            return .success(RemapResult(address: old, freed: clear(from: s + newN, to: s + oldN), move: nil))
        }
        let last = pages[s + oldN - 1]!
        let endsArea = s + oldN == topPage || pages[s + oldN] == nil || !last.continues(into: pages[s + oldN]!)
        if endsArea && s + newN <= topPage && isFree(from: s + oldN, to: s + newN) {
            var continued = first
            continued.backing = first.backing.advanced(by: UInt64(oldN) * page)
            fill(from: s + oldN, count: newN - oldN, continued)
            return .success(RemapResult(address: old, freed: [], move: nil))
        }
        guard mayMove, let t = highestFreeRun(length: newN, below: basePage)
                ?? highestFreeRun(length: newN, below: topPage) else { return .failure(.ENOMEM) }
        _ = clear(from: s, to: s + oldN)
        fill(from: t, count: newN, first)
        return .success(RemapResult(address: address(t), freed: [],
                                    move: PageMove(from: AddressRange(start: old, end: address(s + oldN)), to: address(t))))
    }
}

final class MemoryModelTests: XCTestCase {
    private let page = MemoryPage.size

    private func expand(_ map: VirtualMemoryMap, pageCount: Int) -> [ModelPage?] {
        var pages = [ModelPage?](repeating: nil, count: pageCount)
        for area in map.areas {
            var address = area.start
            while address < area.end {
                pages[Int(address / page)] = ModelPage(protection: area.protection,
                                                       backing: area.backing.advanced(by: address - area.start),
                                                       shared: area.shared, name: area.name)
                address += page
            }
        }
        return pages
    }

    private func checkCanonical(_ map: VirtualMemoryMap, step: Int, file: StaticString = #filePath, line: UInt = #line) {
        var previous: VirtualMemoryArea? = nil
        for area in map.areas {
            XCTAssertTrue(area.range.isPageAligned && !area.range.isEmpty, "step \(step): bad area", file: file, line: line)
            XCTAssertGreaterThanOrEqual(area.start, map.layout.mmapMin, "step \(step)", file: file, line: line)
            XCTAssertLessThanOrEqual(area.end, map.layout.userTop, "step \(step)", file: file, line: line)
            if let p = previous {
                XCTAssertLessThanOrEqual(p.end, area.start, "step \(step): areas overlap or unsorted", file: file, line: line)
                XCTAssertFalse(p.canMerge(with: area), "step \(step): unmerged neighbours", file: file, line: line)
            }
            previous = area
        }
    }

    private func randomState(_ rng: inout MemoryTestRandom) -> ModelPage {
        let protection = MemoryProtection(rawValue: UInt32(rng.next() % 8))
        let shared = rng.next() % 5 == 0
        switch rng.next() % 4 {
        case 0: return ModelPage(protection: protection, backing: .image(offset: (rng.next() % 4) * page),
                                 shared: shared, name: "/bin/app")
        case 1: return ModelPage(protection: protection, backing: .anonymous, shared: shared, name: "named")
        default: return ModelPage(protection: protection, backing: .anonymous, shared: shared, name: "")
        }
    }

    private func runModel(seed: UInt64, steps: Int) {
        let layout = AddressSpaceLayout(mmapMin: 0x10000, mmapBase: 0x10000 + 40 * page, userTop: 0x10000 + 64 * page)
        var map = VirtualMemoryMap(layout: layout)
        var model = ReferenceAddressSpace(layout: layout)
        map.initializeBreak(imageEnd: 0x10000 + 6 * page + 0x123)
        model.breakStart = 0x10000 + 7 * page
        model.currentBreak = model.breakStart
        var rng = MemoryTestRandom(seed: seed)
        let topPage = UInt64(model.topPage)

        func randomAddress() -> UInt64 {
            var address = (rng.next() % (topPage + 4)) * page
            if rng.next() % 10 == 0 { address += rng.next() % page }
            return address
        }
        func randomLength() -> UInt64 {
            var length = (rng.next() % 12) * page
            if length > 0 && rng.next() % 4 == 0 { length -= rng.next() % page }
            return length
        }

        // Successful calls per kind (map, unmap that removed something, protect that changed
        // something, brk that moved, mremap), so a generator that only hits error paths fails.
        var useful = [Int](repeating: 0, count: 5)
        for step in 0..<steps {
            switch rng.next() % 16 {
            case 0..<6:
                let placement: MappingPlacement = [.hint, .fixed, .fixedNoReplace][Int(rng.next() % 3)]
                let address = placement == .hint && rng.next() % 3 == 0 ? 0 : randomAddress()
                let length = rng.next() % 50 == 0 ? UInt64.max - rng.next() % 8192 : randomLength()
                let state = randomState(&rng)
                let got = map.map(at: address, length: length, protection: state.protection, placement: placement,
                                  backing: state.backing, shared: state.shared, name: state.name)
                let want = model.map(at: address, length: length, placement: placement, state)
                if case .success = got { useful[0] += 1 }
                XCTAssertEqual(got, want, "step \(step): map(\(address), \(length), \(placement))")
            case 6..<9:
                let start = randomAddress()
                let length = randomLength()
                let got = map.unmap(start: start, length: length)
                XCTAssertEqual(got, model.unmap(start: start, length: length), "step \(step): unmap(\(start), \(length))")
                if case .success(let removed) = got, !removed.isEmpty { useful[1] += 1 }
            case 9..<13:
                let start = randomAddress()
                let length = randomLength()
                let protection = MemoryProtection(rawValue: UInt32(rng.next() % 8))
                let got = map.protect(start: start, length: length, protection: protection)
                let want = model.protect(start: start, length: length, protection)
                switch (got, want) {
                case (.success(let changes), .success(let expected)):
                    if !changes.isEmpty { useful[2] += 1 }
                    var perPage: [(UInt64, MemoryProtection, MemoryProtection)] = []
                    for change in changes {
                        var a = change.range.start
                        while a < change.range.end { perPage.append((a, change.oldProtection, change.newProtection)); a += page }
                    }
                    perPage.sort { $0.0 < $1.0 }
                    XCTAssertEqual(perPage.count, expected.count, "step \(step): protect changes")
                    for (x, y) in zip(perPage, expected) {
                        XCTAssertTrue(x.0 == y.0 && x.1 == y.1 && x.2 == y.2, "step \(step): protect change at \(x.0)")
                    }
                case (.failure(let e1), .failure(let e2)):
                    XCTAssertEqual(e1, e2, "step \(step): protect error")
                default:
                    XCTFail("step \(step): protect(\(start), \(length)) got \(got), model \(want)")
                }
            case 13:
                let requested: UInt64
                switch rng.next() % 6 {
                case 0: requested = 0
                case 1: requested = model.breakStart - 2 * page + rng.next() % (20 * page)
                default: requested = model.currentBreak - min(model.currentBreak, 3 * page) + rng.next() % (6 * page)
                }
                let before = map.currentBreak
                XCTAssertEqual(map.setBreak(requested), model.setBreak(requested), "step \(step): brk(\(requested))")
                if map.currentBreak != before { useful[3] += 1 }
            default:
                var old = randomAddress()
                var oldLength = randomLength()
                if rng.next() % 3 != 0 && !map.areas.isEmpty {
                    // Mostly a valid old range: a prefix of a random area.
                    let area = map.areas[Int(rng.next() % UInt64(map.areas.count))]
                    old = area.start
                    oldLength = (rng.next() % area.range.pageCount + 1) * page
                }
                let newLength = randomLength()
                let mayMove = rng.next() % 3 != 0
                let fixed: UInt64? = rng.next() % 3 == 0 ? randomAddress() : nil
                let got = map.remap(oldAddress: old, oldLength: oldLength, newLength: newLength, mayMove: mayMove, fixedAddress: fixed)
                if case .success = got { useful[4] += 1 }
                XCTAssertEqual(got, model.remap(old: old, oldLength: oldLength, newLength: newLength, mayMove: mayMove, fixed: fixed),
                               "step \(step): mremap(\(old), \(oldLength), \(newLength), \(mayMove), \(String(describing: fixed)))")
            }
            XCTAssertEqual(map.currentBreak, model.currentBreak, "step \(step): break")
            let pages = expand(map, pageCount: model.topPage)
            if pages != model.pages {
                let bad = (0..<model.topPage).first { pages[$0] != model.pages[$0] }!
                XCTFail("step \(step): page \(bad) differs: map \(String(describing: pages[bad])) model \(String(describing: model.pages[bad]))")
                return
            }
            checkCanonical(map, step: step)
            // Spot-check the query paths against the model.
            let probe = rng.next() % (topPage * page)
            XCTAssertEqual(map.area(containing: probe) != nil, model.pages[Int(probe / page)] != nil, "step \(step): area(containing:)")
        }
        for (kind, count) in useful.enumerated() {
            XCTAssertGreaterThan(count, steps / 200, "operation kind \(kind) rarely succeeded: \(useful)")
        }
    }

    func testRandomOperationsAgreeWithPageModel() {
        runModel(seed: 0xe99_0001, steps: 10_000)
    }

    func testRandomOperationsAgreeWithPageModelOtherSeeds() {
        for seed in UInt64(1)...5 { runModel(seed: seed &* 0x9e37_79b9, steps: 3000) }
    }
}
