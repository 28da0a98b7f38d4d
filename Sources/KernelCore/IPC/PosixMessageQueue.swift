// PosixMessageQueue — POSIX message queues: the queue itself (priority order, FIFO within a
// priority), its attributes and limits, and the namespace of names (KernelCore/IPC, pure
// logic; host-tested in Tests/KernelCoreTests/PosixMessageQueueTests.swift).
//
// Follows mq_overview(7) and ipc/mqueue.c: the /proc/sys/fs/mqueue defaults (msg_max 10,
// msgsize_max 8192, queues_max 256), the hard ceilings a privileged caller may go up to
// (HARD_MSGMAX, HARD_MSGSIZEMAX), MQ_PRIO_MAX 32768, and the per-user byte budget of
// RLIMIT_MSGQUEUE (mqueue_get_inode). The syscalls are PosixMessageQueueSyscalls.swift;
// the descriptor object is MessageQueueFile there; System V queues are SysVMessageQueue.swift.
import LinuxABI

/// struct mq_attr: four longs (mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs) and four
/// reserved ones, 64 bytes.
public struct MessageQueueAttributes: Equatable, Sendable {
    public var flags: Int64
    public var maxMessages: Int64
    public var messageSize: Int64
    public var currentMessages: Int64
    public static let byteSize = 64

    public init(flags: Int64, maxMessages: Int64, messageSize: Int64, currentMessages: Int64) {
        self.flags = flags
        self.maxMessages = maxMessages
        self.messageSize = messageSize
        self.currentMessages = currentMessages
    }

    public init(_ bytes: [UInt8]) {
        let r = ByteReader(bytes)
        flags = Int64(bitPattern: r.u64(0)); maxMessages = Int64(bitPattern: r.u64(8))
        messageSize = Int64(bitPattern: r.u64(16)); currentMessages = Int64(bitPattern: r.u64(24))
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.i64(flags); w.i64(maxMessages); w.i64(messageSize); w.i64(currentMessages)
        w.zeros(32)
        return w.bytes
    }
}

/// The tunables of /proc/sys/fs/mqueue and the fixed ceilings (ipc/mqueue.c, mq_overview(7)).
public enum MessageQueueLimits {
    public static let messagesMax = 10, messageSizeMax = 8192, queuesMax = 256
    public static let messagesDefault = 10, messageSizeDefault = 8192
    public static let hardMessagesMax = 65536, hardMessageSizeMax = 16 * 1024 * 1024
    public static let priorityMax: UInt32 = 32768
    /// RLIMIT_MSGQUEUE's default (bytes a user's queues may reserve).
    public static let userBytes = 819_200

    /// The bytes a queue reserves against RLIMIT_MSGQUEUE: mqueue_get_inode's mq_bytes
    /// (message bodies plus one rb-tree node, 32 bytes here, per message).
    public static func reservedBytes(maxMessages: Int, messageSize: Int) -> Int {
        maxMessages * (messageSize + 32)
    }

    /// mq_attr_ok: the attributes given to mq_open(O_CREAT). `privileged` is CAP_SYS_RESOURCE.
    public static func validate(_ a: MessageQueueAttributes, privileged: Bool) -> Errno? {
        guard a.maxMessages > 0, a.messageSize > 0 else { return .EINVAL }
        if privileged {
            if a.maxMessages > Int64(hardMessagesMax) || a.messageSize > Int64(hardMessageSizeMax) { return .EINVAL }
        } else if a.maxMessages > Int64(messagesMax) || a.messageSize > Int64(messageSizeMax) {
            return .EINVAL
        }
        return nil
    }
}

/// One queue's messages: highest priority first, FIFO within a priority (mq_send(3)).
public struct MessageStore: Sendable {
    public struct Message: Equatable, Sendable {
        public var priority: UInt32
        public var body: [UInt8]
    }
    /// Kept sorted: priority descending, arrival order within a priority.
    public private(set) var messages: [Message] = []
    public let capacity: Int
    public let messageSize: Int

    public init(capacity: Int, messageSize: Int) {
        self.capacity = capacity
        self.messageSize = messageSize
    }

    public var count: Int { messages.count }
    public var isFull: Bool { messages.count >= capacity }
    public var isEmpty: Bool { messages.isEmpty }
    /// Bytes of message bodies queued (the QSIZE of the status text).
    public var totalBytes: Int { messages.reduce(0) { $0 + $1.body.count } }

    /// Insert after every message of the same or a higher priority.
    public mutating func insert(_ body: [UInt8], priority: UInt32) {
        var i = messages.count
        while i > 0 && messages[i - 1].priority < priority { i -= 1 }
        messages.insert(Message(priority: priority, body: body), at: i)
    }

    /// The oldest message of the highest priority.
    public mutating func takeFirst() -> Message? {
        messages.isEmpty ? nil : messages.removeFirst()
    }
}

/// How mq_notify asked to be told (struct sigevent's sigev_notify): a signal or nothing.
public struct MessageQueueNotification: Equatable, Sendable {
    public var pid: Int
    /// 0 for SIGEV_NONE.
    public var signal: Int
    public var value: UInt64
}

public final class PosixMessageQueue {
    public var store: MessageStore
    public var uid: UInt32, gid: UInt32
    public var mode: UInt32
    /// Who registered with mq_notify, if anyone (one registration per queue).
    public var notification: MessageQueueNotification? = nil
    /// Receivers and senders blocked on this queue; readiness changes also wake pollers.
    public let receivers = WaitQueue(), senders = WaitQueue()
    /// Threads blocked in mq_timedreceive (a notification is only sent when none waits).
    public var waitingReceivers = 0
    public var reservedBytes: Int
    /// The real uid whose RLIMIT_MSGQUEUE budget holds `reservedBytes`.
    public var creatorUID: UInt32 = 0
    /// Open file descriptions of the queue, and whether its name is gone: the queue lives
    /// until both are over (mq_unlink(3)).
    public var openDescriptions = 0
    public var unlinked = false

    public init(maxMessages: Int, messageSize: Int, uid: UInt32, gid: UInt32, mode: UInt32) {
        store = MessageStore(capacity: maxMessages, messageSize: messageSize)
        self.uid = uid
        self.gid = gid
        self.mode = mode & 0o777
        reservedBytes = MessageQueueLimits.reservedBytes(maxMessages: maxMessages, messageSize: messageSize)
    }

    /// generic_permission on the queue's inode with the caller's fs ids: `wanted` is a mask
    /// of 4 (read) and 2 (write); CAP_DAC_OVERRIDE grants either.
    public func denies(_ wanted: UInt32, _ c: Credentials) -> Bool {
        var granted = mode
        if c.fsuid == uid { granted >>= 6 } else if c.fsgid == gid || c.groups.contains(gid) { granted >>= 3 }
        return wanted & ~granted & 7 != 0 && !c.capable(CapabilitySet.dacOverride)
    }
}

/// The names of the queues (the mqueue file system's one directory).
public final class MessageQueueNamespace {
    public var queues: [[UInt8]: PosixMessageQueue] = [:]
    /// Bytes reserved by each user's queues (RLIMIT_MSGQUEUE), by real uid of the creator.
    public var bytesByUser: [UInt32: Int] = [:]
    public init() {}

    /// A queue name as the kernel sees it (libc strips the leading '/'): a '/' inside, an
    /// empty name, "." or ".." give EACCES (lookup_one_len), more than NAME_MAX bytes
    /// ENAMETOOLONG.
    public static func checkName(_ name: [UInt8]) -> Errno? {
        if name.count > 255 { return .ENAMETOOLONG }
        if name.isEmpty || name.contains(UInt8(ascii: "/")) { return .EACCES }
        if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { return .EACCES }
        return nil
    }
}
