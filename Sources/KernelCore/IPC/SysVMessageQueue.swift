// SysVMessageQueue — one System V message queue: its messages, byte limit, times and the
// selection rules of msgrcv (KernelCore layer, pure logic; host-tested in
// Tests/KernelCoreTests/SysVIPCTests.swift).
//
// Follows ipc/msg.c (do_msgsnd, do_msgrcv, find_msg, testmsg, msg_fits_inqueue) and
// msgop(2), msgctl(2). Blocking and copying are Syscalls/SysVIPCSyscalls.swift; ids and
// permissions are SysVIPC.swift.
import LinuxABI

public final class SysVMessageQueue {
    /// MSGMAX (largest message) and MSGMNB (default queue size in bytes), include/uapi/linux/msg.h.
    public static let messageMax = 8192
    public static let queueBytesDefault = 16384

    public struct Message {
        public var type: Int
        public var text: [UInt8]
    }

    public var messages: [Message] = []
    /// msg_qbytes: the most bytes the queue holds (IPC_SET may change it).
    public var byteLimit = SysVMessageQueue.queueBytesDefault
    public private(set) var byteCount = 0
    public var sendTime: Int64 = 0, receiveTime: Int64 = 0, changeTime: Int64
    public var lastSender = 0, lastReceiver = 0
    /// Set by IPC_RMID: waiters wake and fail with EIDRM.
    public var removed = false
    /// Threads waiting to send (queue full) or to receive (no matching message).
    public let senders = WaitQueue(), receivers = WaitQueue()

    public init(now: Int64) { changeTime = now }

    /// msg_fits_inqueue: the bytes fit, and the message count stays within the byte limit
    /// (Linux counts messages against msg_qbytes too, so zero-length messages cannot flood).
    public func fits(_ size: Int) -> Bool {
        byteCount + size <= byteLimit && messages.count + 1 <= byteLimit
    }

    public func append(_ m: Message) {
        messages.append(m)
        byteCount += m.text.count
    }

    /// MSG_EXCEPT (msgrcv(2)).
    public static let except: UInt32 = 0o20000, noError: UInt32 = 0o10000, copy: UInt32 = 0o40000

    /// find_msg/testmsg: the index of the message msgrcv takes. Type 0: the first; type > 0:
    /// the first of that type (or, with MSG_EXCEPT, of any other type); type < 0: the first
    /// of the lowest type not above |type|.
    public func select(type: Int, flags: UInt32) -> Int? {
        if type == 0 { return messages.isEmpty ? nil : 0 }
        if type > 0 {
            let except = flags & SysVMessageQueue.except != 0
            return messages.firstIndex { except ? $0.type != type : $0.type == type }
        }
        let bound = type == Int.min ? Int.max : -type
        var best: Int? = nil
        for (i, m) in messages.enumerated() where m.type <= bound {
            if let b = best, messages[b].type <= m.type { continue }
            best = i
        }
        return best
    }

    public func remove(at index: Int) -> Message {
        let m = messages.remove(at: index)
        byteCount -= m.text.count
        return m
    }
}
