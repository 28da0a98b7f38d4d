// threads.swift — a static Swift program using threads two ways: POSIX threads through
// Glibc with a shared counter under a mutex, and Dispatch's concurrentPerform summing a
// range. Prints one verdict line. Layer: guest test programs (Guest/swift).
import Dispatch
import Glibc

final class Counter: @unchecked Sendable {
    var mutex = pthread_mutex_t()
    var value = 0
    init() { pthread_mutex_init(&mutex, nil) }
    func add(_ n: Int) {
        pthread_mutex_lock(&mutex)
        value += n
        pthread_mutex_unlock(&mutex)
    }
}

@main
struct Threads {
    static func main() {
        let counter = Counter()
        let threads = 6, increments = 5000
        var ids = [pthread_t](repeating: pthread_t(), count: threads)
        for i in 0..<threads {
            let box = Unmanaged.passRetained(counter).toOpaque()
            let rc = pthread_create(&ids[i], nil, { arg in
                let c = Unmanaged<Counter>.fromOpaque(arg!).takeRetainedValue()
                for _ in 0..<5000 { c.add(1) }
                return nil
            }, box)
            if rc != 0 { print("FAIL threads: pthread_create \(rc)"); exit(1) }
        }
        for id in ids { pthread_join(id, nil) }
        guard counter.value == threads * increments else {
            print("FAIL threads: counter \(counter.value), expected \(threads * increments)")
            exit(1)
        }
        let sums = Counter()
        DispatchQueue.concurrentPerform(iterations: 100) { i in sums.add(i) }
        guard sums.value == 4950 else {
            print("FAIL threads: concurrentPerform sum \(sums.value), expected 4950")
            exit(1)
        }
        print("PASS threads: \(threads) pthreads x \(increments), concurrentPerform 100")
    }
}
