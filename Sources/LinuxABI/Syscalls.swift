// Syscalls — x86-64 Linux system call numbers and their names (LinuxABI layer).
//
// Numbers follow arch/x86/entry/syscalls/syscall_64.tbl (the "common" and "64" ABIs;
// the x32 entries 512... are not part of this ABI), Linux 6.10: 0...334 and 424...462,
// the gap 335...423 is unused on x86-64. The kernel's dispatch table (KernelCore) keys on
// `SyscallNumber`, the trace formatter uses `syscallName(_:)`, and strace-style filters
// (`-e trace=openat,read`) use `syscallNumber(named:)`.

/// A system call number as found in rax on `syscall` entry.
/// Members are spelled exactly as Linux names the call, so `SyscallNumber.rt_sigaction`
/// greps like `__NR_rt_sigaction`.
public struct SyscallNumber: Equatable, Hashable, Comparable, Sendable {
    public let rawValue: Int
    @inline(__always) public init(_ rawValue: Int) { self.rawValue = rawValue }

    public static func < (a: SyscallNumber, b: SyscallNumber) -> Bool { a.rawValue < b.rawValue }

    /// The Linux name ("openat"), or nil for a number x86-64 does not define.
    public var name: StaticString? { syscallName(rawValue) }

    /// Looks a call up by its Linux name ("openat" → 257).
    public init?(name: String) {
        guard let number = syscallNumber(named: name) else { return nil }
        self.rawValue = number
    }

    /// Every number that names a system call on x86-64, ascending.
    public static let allDefinedRanges: [ClosedRange<Int>] = [0...334, 424...462]
    /// One past the highest defined number: a dispatch table of this size covers the ABI.
    public static let tableSize = 463

    public static let read = SyscallNumber(0)
    public static let write = SyscallNumber(1)
    public static let open = SyscallNumber(2)
    public static let close = SyscallNumber(3)
    public static let stat = SyscallNumber(4)
    public static let fstat = SyscallNumber(5)
    public static let lstat = SyscallNumber(6)
    public static let poll = SyscallNumber(7)
    public static let lseek = SyscallNumber(8)
    public static let mmap = SyscallNumber(9)
    public static let mprotect = SyscallNumber(10)
    public static let munmap = SyscallNumber(11)
    public static let brk = SyscallNumber(12)
    public static let rt_sigaction = SyscallNumber(13)
    public static let rt_sigprocmask = SyscallNumber(14)
    public static let rt_sigreturn = SyscallNumber(15)
    public static let ioctl = SyscallNumber(16)
    public static let pread64 = SyscallNumber(17)
    public static let pwrite64 = SyscallNumber(18)
    public static let readv = SyscallNumber(19)
    public static let writev = SyscallNumber(20)
    public static let access = SyscallNumber(21)
    public static let pipe = SyscallNumber(22)
    public static let select = SyscallNumber(23)
    public static let sched_yield = SyscallNumber(24)
    public static let mremap = SyscallNumber(25)
    public static let msync = SyscallNumber(26)
    public static let mincore = SyscallNumber(27)
    public static let madvise = SyscallNumber(28)
    public static let shmget = SyscallNumber(29)
    public static let shmat = SyscallNumber(30)
    public static let shmctl = SyscallNumber(31)
    public static let dup = SyscallNumber(32)
    public static let dup2 = SyscallNumber(33)
    public static let pause = SyscallNumber(34)
    public static let nanosleep = SyscallNumber(35)
    public static let getitimer = SyscallNumber(36)
    public static let alarm = SyscallNumber(37)
    public static let setitimer = SyscallNumber(38)
    public static let getpid = SyscallNumber(39)
    public static let sendfile = SyscallNumber(40)
    public static let socket = SyscallNumber(41)
    public static let connect = SyscallNumber(42)
    public static let accept = SyscallNumber(43)
    public static let sendto = SyscallNumber(44)
    public static let recvfrom = SyscallNumber(45)
    public static let sendmsg = SyscallNumber(46)
    public static let recvmsg = SyscallNumber(47)
    public static let shutdown = SyscallNumber(48)
    public static let bind = SyscallNumber(49)
    public static let listen = SyscallNumber(50)
    public static let getsockname = SyscallNumber(51)
    public static let getpeername = SyscallNumber(52)
    public static let socketpair = SyscallNumber(53)
    public static let setsockopt = SyscallNumber(54)
    public static let getsockopt = SyscallNumber(55)
    public static let clone = SyscallNumber(56)
    public static let fork = SyscallNumber(57)
    public static let vfork = SyscallNumber(58)
    public static let execve = SyscallNumber(59)
    public static let exit = SyscallNumber(60)
    public static let wait4 = SyscallNumber(61)
    public static let kill = SyscallNumber(62)
    public static let uname = SyscallNumber(63)
    public static let semget = SyscallNumber(64)
    public static let semop = SyscallNumber(65)
    public static let semctl = SyscallNumber(66)
    public static let shmdt = SyscallNumber(67)
    public static let msgget = SyscallNumber(68)
    public static let msgsnd = SyscallNumber(69)
    public static let msgrcv = SyscallNumber(70)
    public static let msgctl = SyscallNumber(71)
    public static let fcntl = SyscallNumber(72)
    public static let flock = SyscallNumber(73)
    public static let fsync = SyscallNumber(74)
    public static let fdatasync = SyscallNumber(75)
    public static let truncate = SyscallNumber(76)
    public static let ftruncate = SyscallNumber(77)
    public static let getdents = SyscallNumber(78)
    public static let getcwd = SyscallNumber(79)
    public static let chdir = SyscallNumber(80)
    public static let fchdir = SyscallNumber(81)
    public static let rename = SyscallNumber(82)
    public static let mkdir = SyscallNumber(83)
    public static let rmdir = SyscallNumber(84)
    public static let creat = SyscallNumber(85)
    public static let link = SyscallNumber(86)
    public static let unlink = SyscallNumber(87)
    public static let symlink = SyscallNumber(88)
    public static let readlink = SyscallNumber(89)
    public static let chmod = SyscallNumber(90)
    public static let fchmod = SyscallNumber(91)
    public static let chown = SyscallNumber(92)
    public static let fchown = SyscallNumber(93)
    public static let lchown = SyscallNumber(94)
    public static let umask = SyscallNumber(95)
    public static let gettimeofday = SyscallNumber(96)
    public static let getrlimit = SyscallNumber(97)
    public static let getrusage = SyscallNumber(98)
    public static let sysinfo = SyscallNumber(99)
    public static let times = SyscallNumber(100)
    public static let ptrace = SyscallNumber(101)
    public static let getuid = SyscallNumber(102)
    public static let syslog = SyscallNumber(103)
    public static let getgid = SyscallNumber(104)
    public static let setuid = SyscallNumber(105)
    public static let setgid = SyscallNumber(106)
    public static let geteuid = SyscallNumber(107)
    public static let getegid = SyscallNumber(108)
    public static let setpgid = SyscallNumber(109)
    public static let getppid = SyscallNumber(110)
    public static let getpgrp = SyscallNumber(111)
    public static let setsid = SyscallNumber(112)
    public static let setreuid = SyscallNumber(113)
    public static let setregid = SyscallNumber(114)
    public static let getgroups = SyscallNumber(115)
    public static let setgroups = SyscallNumber(116)
    public static let setresuid = SyscallNumber(117)
    public static let getresuid = SyscallNumber(118)
    public static let setresgid = SyscallNumber(119)
    public static let getresgid = SyscallNumber(120)
    public static let getpgid = SyscallNumber(121)
    public static let setfsuid = SyscallNumber(122)
    public static let setfsgid = SyscallNumber(123)
    public static let getsid = SyscallNumber(124)
    public static let capget = SyscallNumber(125)
    public static let capset = SyscallNumber(126)
    public static let rt_sigpending = SyscallNumber(127)
    public static let rt_sigtimedwait = SyscallNumber(128)
    public static let rt_sigqueueinfo = SyscallNumber(129)
    public static let rt_sigsuspend = SyscallNumber(130)
    public static let sigaltstack = SyscallNumber(131)
    public static let utime = SyscallNumber(132)
    public static let mknod = SyscallNumber(133)
    public static let uselib = SyscallNumber(134)
    public static let personality = SyscallNumber(135)
    public static let ustat = SyscallNumber(136)
    public static let statfs = SyscallNumber(137)
    public static let fstatfs = SyscallNumber(138)
    public static let sysfs = SyscallNumber(139)
    public static let getpriority = SyscallNumber(140)
    public static let setpriority = SyscallNumber(141)
    public static let sched_setparam = SyscallNumber(142)
    public static let sched_getparam = SyscallNumber(143)
    public static let sched_setscheduler = SyscallNumber(144)
    public static let sched_getscheduler = SyscallNumber(145)
    public static let sched_get_priority_max = SyscallNumber(146)
    public static let sched_get_priority_min = SyscallNumber(147)
    public static let sched_rr_get_interval = SyscallNumber(148)
    public static let mlock = SyscallNumber(149)
    public static let munlock = SyscallNumber(150)
    public static let mlockall = SyscallNumber(151)
    public static let munlockall = SyscallNumber(152)
    public static let vhangup = SyscallNumber(153)
    public static let modify_ldt = SyscallNumber(154)
    public static let pivot_root = SyscallNumber(155)
    public static let _sysctl = SyscallNumber(156)
    public static let prctl = SyscallNumber(157)
    public static let arch_prctl = SyscallNumber(158)
    public static let adjtimex = SyscallNumber(159)
    public static let setrlimit = SyscallNumber(160)
    public static let chroot = SyscallNumber(161)
    public static let sync = SyscallNumber(162)
    public static let acct = SyscallNumber(163)
    public static let settimeofday = SyscallNumber(164)
    public static let mount = SyscallNumber(165)
    public static let umount2 = SyscallNumber(166)
    public static let swapon = SyscallNumber(167)
    public static let swapoff = SyscallNumber(168)
    public static let reboot = SyscallNumber(169)
    public static let sethostname = SyscallNumber(170)
    public static let setdomainname = SyscallNumber(171)
    public static let iopl = SyscallNumber(172)
    public static let ioperm = SyscallNumber(173)
    public static let create_module = SyscallNumber(174)
    public static let init_module = SyscallNumber(175)
    public static let delete_module = SyscallNumber(176)
    public static let get_kernel_syms = SyscallNumber(177)
    public static let query_module = SyscallNumber(178)
    public static let quotactl = SyscallNumber(179)
    public static let nfsservctl = SyscallNumber(180)
    public static let getpmsg = SyscallNumber(181)
    public static let putpmsg = SyscallNumber(182)
    public static let afs_syscall = SyscallNumber(183)
    public static let tuxcall = SyscallNumber(184)
    public static let security = SyscallNumber(185)
    public static let gettid = SyscallNumber(186)
    public static let readahead = SyscallNumber(187)
    public static let setxattr = SyscallNumber(188)
    public static let lsetxattr = SyscallNumber(189)
    public static let fsetxattr = SyscallNumber(190)
    public static let getxattr = SyscallNumber(191)
    public static let lgetxattr = SyscallNumber(192)
    public static let fgetxattr = SyscallNumber(193)
    public static let listxattr = SyscallNumber(194)
    public static let llistxattr = SyscallNumber(195)
    public static let flistxattr = SyscallNumber(196)
    public static let removexattr = SyscallNumber(197)
    public static let lremovexattr = SyscallNumber(198)
    public static let fremovexattr = SyscallNumber(199)
    public static let tkill = SyscallNumber(200)
    public static let time = SyscallNumber(201)
    public static let futex = SyscallNumber(202)
    public static let sched_setaffinity = SyscallNumber(203)
    public static let sched_getaffinity = SyscallNumber(204)
    public static let set_thread_area = SyscallNumber(205)
    public static let io_setup = SyscallNumber(206)
    public static let io_destroy = SyscallNumber(207)
    public static let io_getevents = SyscallNumber(208)
    public static let io_submit = SyscallNumber(209)
    public static let io_cancel = SyscallNumber(210)
    public static let get_thread_area = SyscallNumber(211)
    public static let lookup_dcookie = SyscallNumber(212)
    public static let epoll_create = SyscallNumber(213)
    public static let epoll_ctl_old = SyscallNumber(214)
    public static let epoll_wait_old = SyscallNumber(215)
    public static let remap_file_pages = SyscallNumber(216)
    public static let getdents64 = SyscallNumber(217)
    public static let set_tid_address = SyscallNumber(218)
    public static let restart_syscall = SyscallNumber(219)
    public static let semtimedop = SyscallNumber(220)
    public static let fadvise64 = SyscallNumber(221)
    public static let timer_create = SyscallNumber(222)
    public static let timer_settime = SyscallNumber(223)
    public static let timer_gettime = SyscallNumber(224)
    public static let timer_getoverrun = SyscallNumber(225)
    public static let timer_delete = SyscallNumber(226)
    public static let clock_settime = SyscallNumber(227)
    public static let clock_gettime = SyscallNumber(228)
    public static let clock_getres = SyscallNumber(229)
    public static let clock_nanosleep = SyscallNumber(230)
    public static let exit_group = SyscallNumber(231)
    public static let epoll_wait = SyscallNumber(232)
    public static let epoll_ctl = SyscallNumber(233)
    public static let tgkill = SyscallNumber(234)
    public static let utimes = SyscallNumber(235)
    public static let vserver = SyscallNumber(236)
    public static let mbind = SyscallNumber(237)
    public static let set_mempolicy = SyscallNumber(238)
    public static let get_mempolicy = SyscallNumber(239)
    public static let mq_open = SyscallNumber(240)
    public static let mq_unlink = SyscallNumber(241)
    public static let mq_timedsend = SyscallNumber(242)
    public static let mq_timedreceive = SyscallNumber(243)
    public static let mq_notify = SyscallNumber(244)
    public static let mq_getsetattr = SyscallNumber(245)
    public static let kexec_load = SyscallNumber(246)
    public static let waitid = SyscallNumber(247)
    public static let add_key = SyscallNumber(248)
    public static let request_key = SyscallNumber(249)
    public static let keyctl = SyscallNumber(250)
    public static let ioprio_set = SyscallNumber(251)
    public static let ioprio_get = SyscallNumber(252)
    public static let inotify_init = SyscallNumber(253)
    public static let inotify_add_watch = SyscallNumber(254)
    public static let inotify_rm_watch = SyscallNumber(255)
    public static let migrate_pages = SyscallNumber(256)
    public static let openat = SyscallNumber(257)
    public static let mkdirat = SyscallNumber(258)
    public static let mknodat = SyscallNumber(259)
    public static let fchownat = SyscallNumber(260)
    public static let futimesat = SyscallNumber(261)
    public static let newfstatat = SyscallNumber(262)
    public static let unlinkat = SyscallNumber(263)
    public static let renameat = SyscallNumber(264)
    public static let linkat = SyscallNumber(265)
    public static let symlinkat = SyscallNumber(266)
    public static let readlinkat = SyscallNumber(267)
    public static let fchmodat = SyscallNumber(268)
    public static let faccessat = SyscallNumber(269)
    public static let pselect6 = SyscallNumber(270)
    public static let ppoll = SyscallNumber(271)
    public static let unshare = SyscallNumber(272)
    public static let set_robust_list = SyscallNumber(273)
    public static let get_robust_list = SyscallNumber(274)
    public static let splice = SyscallNumber(275)
    public static let tee = SyscallNumber(276)
    public static let sync_file_range = SyscallNumber(277)
    public static let vmsplice = SyscallNumber(278)
    public static let move_pages = SyscallNumber(279)
    public static let utimensat = SyscallNumber(280)
    public static let epoll_pwait = SyscallNumber(281)
    public static let signalfd = SyscallNumber(282)
    public static let timerfd_create = SyscallNumber(283)
    public static let eventfd = SyscallNumber(284)
    public static let fallocate = SyscallNumber(285)
    public static let timerfd_settime = SyscallNumber(286)
    public static let timerfd_gettime = SyscallNumber(287)
    public static let accept4 = SyscallNumber(288)
    public static let signalfd4 = SyscallNumber(289)
    public static let eventfd2 = SyscallNumber(290)
    public static let epoll_create1 = SyscallNumber(291)
    public static let dup3 = SyscallNumber(292)
    public static let pipe2 = SyscallNumber(293)
    public static let inotify_init1 = SyscallNumber(294)
    public static let preadv = SyscallNumber(295)
    public static let pwritev = SyscallNumber(296)
    public static let rt_tgsigqueueinfo = SyscallNumber(297)
    public static let perf_event_open = SyscallNumber(298)
    public static let recvmmsg = SyscallNumber(299)
    public static let fanotify_init = SyscallNumber(300)
    public static let fanotify_mark = SyscallNumber(301)
    public static let prlimit64 = SyscallNumber(302)
    public static let name_to_handle_at = SyscallNumber(303)
    public static let open_by_handle_at = SyscallNumber(304)
    public static let clock_adjtime = SyscallNumber(305)
    public static let syncfs = SyscallNumber(306)
    public static let sendmmsg = SyscallNumber(307)
    public static let setns = SyscallNumber(308)
    public static let getcpu = SyscallNumber(309)
    public static let process_vm_readv = SyscallNumber(310)
    public static let process_vm_writev = SyscallNumber(311)
    public static let kcmp = SyscallNumber(312)
    public static let finit_module = SyscallNumber(313)
    public static let sched_setattr = SyscallNumber(314)
    public static let sched_getattr = SyscallNumber(315)
    public static let renameat2 = SyscallNumber(316)
    public static let seccomp = SyscallNumber(317)
    public static let getrandom = SyscallNumber(318)
    public static let memfd_create = SyscallNumber(319)
    public static let kexec_file_load = SyscallNumber(320)
    public static let bpf = SyscallNumber(321)
    public static let execveat = SyscallNumber(322)
    public static let userfaultfd = SyscallNumber(323)
    public static let membarrier = SyscallNumber(324)
    public static let mlock2 = SyscallNumber(325)
    public static let copy_file_range = SyscallNumber(326)
    public static let preadv2 = SyscallNumber(327)
    public static let pwritev2 = SyscallNumber(328)
    public static let pkey_mprotect = SyscallNumber(329)
    public static let pkey_alloc = SyscallNumber(330)
    public static let pkey_free = SyscallNumber(331)
    public static let statx = SyscallNumber(332)
    public static let io_pgetevents = SyscallNumber(333)
    public static let rseq = SyscallNumber(334)
    public static let pidfd_send_signal = SyscallNumber(424)
    public static let io_uring_setup = SyscallNumber(425)
    public static let io_uring_enter = SyscallNumber(426)
    public static let io_uring_register = SyscallNumber(427)
    public static let open_tree = SyscallNumber(428)
    public static let move_mount = SyscallNumber(429)
    public static let fsopen = SyscallNumber(430)
    public static let fsconfig = SyscallNumber(431)
    public static let fsmount = SyscallNumber(432)
    public static let fspick = SyscallNumber(433)
    public static let pidfd_open = SyscallNumber(434)
    public static let clone3 = SyscallNumber(435)
    public static let close_range = SyscallNumber(436)
    public static let openat2 = SyscallNumber(437)
    public static let pidfd_getfd = SyscallNumber(438)
    public static let faccessat2 = SyscallNumber(439)
    public static let process_madvise = SyscallNumber(440)
    public static let epoll_pwait2 = SyscallNumber(441)
    public static let mount_setattr = SyscallNumber(442)
    public static let quotactl_fd = SyscallNumber(443)
    public static let landlock_create_ruleset = SyscallNumber(444)
    public static let landlock_add_rule = SyscallNumber(445)
    public static let landlock_restrict_self = SyscallNumber(446)
    public static let memfd_secret = SyscallNumber(447)
    public static let process_mrelease = SyscallNumber(448)
    public static let futex_waitv = SyscallNumber(449)
    public static let set_mempolicy_home_node = SyscallNumber(450)
    public static let cachestat = SyscallNumber(451)
    public static let fchmodat2 = SyscallNumber(452)
    public static let map_shadow_stack = SyscallNumber(453)
    public static let futex_wake = SyscallNumber(454)
    public static let futex_wait = SyscallNumber(455)
    public static let futex_requeue = SyscallNumber(456)
    public static let statmount = SyscallNumber(457)
    public static let listmount = SyscallNumber(458)
    public static let lsm_get_self_attr = SyscallNumber(459)
    public static let lsm_set_self_attr = SyscallNumber(460)
    public static let lsm_list_modules = SyscallNumber(461)
    public static let mseal = SyscallNumber(462)
}

/// The Linux name of system call `number` on x86-64 ("read" for 0), or nil when the number
/// is unassigned (335...423, above 462, negative).
public func syscallName(_ number: Int) -> StaticString? {
    switch number {
    case 0: return "read"
    case 1: return "write"
    case 2: return "open"
    case 3: return "close"
    case 4: return "stat"
    case 5: return "fstat"
    case 6: return "lstat"
    case 7: return "poll"
    case 8: return "lseek"
    case 9: return "mmap"
    case 10: return "mprotect"
    case 11: return "munmap"
    case 12: return "brk"
    case 13: return "rt_sigaction"
    case 14: return "rt_sigprocmask"
    case 15: return "rt_sigreturn"
    case 16: return "ioctl"
    case 17: return "pread64"
    case 18: return "pwrite64"
    case 19: return "readv"
    case 20: return "writev"
    case 21: return "access"
    case 22: return "pipe"
    case 23: return "select"
    case 24: return "sched_yield"
    case 25: return "mremap"
    case 26: return "msync"
    case 27: return "mincore"
    case 28: return "madvise"
    case 29: return "shmget"
    case 30: return "shmat"
    case 31: return "shmctl"
    case 32: return "dup"
    case 33: return "dup2"
    case 34: return "pause"
    case 35: return "nanosleep"
    case 36: return "getitimer"
    case 37: return "alarm"
    case 38: return "setitimer"
    case 39: return "getpid"
    case 40: return "sendfile"
    case 41: return "socket"
    case 42: return "connect"
    case 43: return "accept"
    case 44: return "sendto"
    case 45: return "recvfrom"
    case 46: return "sendmsg"
    case 47: return "recvmsg"
    case 48: return "shutdown"
    case 49: return "bind"
    case 50: return "listen"
    case 51: return "getsockname"
    case 52: return "getpeername"
    case 53: return "socketpair"
    case 54: return "setsockopt"
    case 55: return "getsockopt"
    case 56: return "clone"
    case 57: return "fork"
    case 58: return "vfork"
    case 59: return "execve"
    case 60: return "exit"
    case 61: return "wait4"
    case 62: return "kill"
    case 63: return "uname"
    case 64: return "semget"
    case 65: return "semop"
    case 66: return "semctl"
    case 67: return "shmdt"
    case 68: return "msgget"
    case 69: return "msgsnd"
    case 70: return "msgrcv"
    case 71: return "msgctl"
    case 72: return "fcntl"
    case 73: return "flock"
    case 74: return "fsync"
    case 75: return "fdatasync"
    case 76: return "truncate"
    case 77: return "ftruncate"
    case 78: return "getdents"
    case 79: return "getcwd"
    case 80: return "chdir"
    case 81: return "fchdir"
    case 82: return "rename"
    case 83: return "mkdir"
    case 84: return "rmdir"
    case 85: return "creat"
    case 86: return "link"
    case 87: return "unlink"
    case 88: return "symlink"
    case 89: return "readlink"
    case 90: return "chmod"
    case 91: return "fchmod"
    case 92: return "chown"
    case 93: return "fchown"
    case 94: return "lchown"
    case 95: return "umask"
    case 96: return "gettimeofday"
    case 97: return "getrlimit"
    case 98: return "getrusage"
    case 99: return "sysinfo"
    case 100: return "times"
    case 101: return "ptrace"
    case 102: return "getuid"
    case 103: return "syslog"
    case 104: return "getgid"
    case 105: return "setuid"
    case 106: return "setgid"
    case 107: return "geteuid"
    case 108: return "getegid"
    case 109: return "setpgid"
    case 110: return "getppid"
    case 111: return "getpgrp"
    case 112: return "setsid"
    case 113: return "setreuid"
    case 114: return "setregid"
    case 115: return "getgroups"
    case 116: return "setgroups"
    case 117: return "setresuid"
    case 118: return "getresuid"
    case 119: return "setresgid"
    case 120: return "getresgid"
    case 121: return "getpgid"
    case 122: return "setfsuid"
    case 123: return "setfsgid"
    case 124: return "getsid"
    case 125: return "capget"
    case 126: return "capset"
    case 127: return "rt_sigpending"
    case 128: return "rt_sigtimedwait"
    case 129: return "rt_sigqueueinfo"
    case 130: return "rt_sigsuspend"
    case 131: return "sigaltstack"
    case 132: return "utime"
    case 133: return "mknod"
    case 134: return "uselib"
    case 135: return "personality"
    case 136: return "ustat"
    case 137: return "statfs"
    case 138: return "fstatfs"
    case 139: return "sysfs"
    case 140: return "getpriority"
    case 141: return "setpriority"
    case 142: return "sched_setparam"
    case 143: return "sched_getparam"
    case 144: return "sched_setscheduler"
    case 145: return "sched_getscheduler"
    case 146: return "sched_get_priority_max"
    case 147: return "sched_get_priority_min"
    case 148: return "sched_rr_get_interval"
    case 149: return "mlock"
    case 150: return "munlock"
    case 151: return "mlockall"
    case 152: return "munlockall"
    case 153: return "vhangup"
    case 154: return "modify_ldt"
    case 155: return "pivot_root"
    case 156: return "_sysctl"
    case 157: return "prctl"
    case 158: return "arch_prctl"
    case 159: return "adjtimex"
    case 160: return "setrlimit"
    case 161: return "chroot"
    case 162: return "sync"
    case 163: return "acct"
    case 164: return "settimeofday"
    case 165: return "mount"
    case 166: return "umount2"
    case 167: return "swapon"
    case 168: return "swapoff"
    case 169: return "reboot"
    case 170: return "sethostname"
    case 171: return "setdomainname"
    case 172: return "iopl"
    case 173: return "ioperm"
    case 174: return "create_module"
    case 175: return "init_module"
    case 176: return "delete_module"
    case 177: return "get_kernel_syms"
    case 178: return "query_module"
    case 179: return "quotactl"
    case 180: return "nfsservctl"
    case 181: return "getpmsg"
    case 182: return "putpmsg"
    case 183: return "afs_syscall"
    case 184: return "tuxcall"
    case 185: return "security"
    case 186: return "gettid"
    case 187: return "readahead"
    case 188: return "setxattr"
    case 189: return "lsetxattr"
    case 190: return "fsetxattr"
    case 191: return "getxattr"
    case 192: return "lgetxattr"
    case 193: return "fgetxattr"
    case 194: return "listxattr"
    case 195: return "llistxattr"
    case 196: return "flistxattr"
    case 197: return "removexattr"
    case 198: return "lremovexattr"
    case 199: return "fremovexattr"
    case 200: return "tkill"
    case 201: return "time"
    case 202: return "futex"
    case 203: return "sched_setaffinity"
    case 204: return "sched_getaffinity"
    case 205: return "set_thread_area"
    case 206: return "io_setup"
    case 207: return "io_destroy"
    case 208: return "io_getevents"
    case 209: return "io_submit"
    case 210: return "io_cancel"
    case 211: return "get_thread_area"
    case 212: return "lookup_dcookie"
    case 213: return "epoll_create"
    case 214: return "epoll_ctl_old"
    case 215: return "epoll_wait_old"
    case 216: return "remap_file_pages"
    case 217: return "getdents64"
    case 218: return "set_tid_address"
    case 219: return "restart_syscall"
    case 220: return "semtimedop"
    case 221: return "fadvise64"
    case 222: return "timer_create"
    case 223: return "timer_settime"
    case 224: return "timer_gettime"
    case 225: return "timer_getoverrun"
    case 226: return "timer_delete"
    case 227: return "clock_settime"
    case 228: return "clock_gettime"
    case 229: return "clock_getres"
    case 230: return "clock_nanosleep"
    case 231: return "exit_group"
    case 232: return "epoll_wait"
    case 233: return "epoll_ctl"
    case 234: return "tgkill"
    case 235: return "utimes"
    case 236: return "vserver"
    case 237: return "mbind"
    case 238: return "set_mempolicy"
    case 239: return "get_mempolicy"
    case 240: return "mq_open"
    case 241: return "mq_unlink"
    case 242: return "mq_timedsend"
    case 243: return "mq_timedreceive"
    case 244: return "mq_notify"
    case 245: return "mq_getsetattr"
    case 246: return "kexec_load"
    case 247: return "waitid"
    case 248: return "add_key"
    case 249: return "request_key"
    case 250: return "keyctl"
    case 251: return "ioprio_set"
    case 252: return "ioprio_get"
    case 253: return "inotify_init"
    case 254: return "inotify_add_watch"
    case 255: return "inotify_rm_watch"
    case 256: return "migrate_pages"
    case 257: return "openat"
    case 258: return "mkdirat"
    case 259: return "mknodat"
    case 260: return "fchownat"
    case 261: return "futimesat"
    case 262: return "newfstatat"
    case 263: return "unlinkat"
    case 264: return "renameat"
    case 265: return "linkat"
    case 266: return "symlinkat"
    case 267: return "readlinkat"
    case 268: return "fchmodat"
    case 269: return "faccessat"
    case 270: return "pselect6"
    case 271: return "ppoll"
    case 272: return "unshare"
    case 273: return "set_robust_list"
    case 274: return "get_robust_list"
    case 275: return "splice"
    case 276: return "tee"
    case 277: return "sync_file_range"
    case 278: return "vmsplice"
    case 279: return "move_pages"
    case 280: return "utimensat"
    case 281: return "epoll_pwait"
    case 282: return "signalfd"
    case 283: return "timerfd_create"
    case 284: return "eventfd"
    case 285: return "fallocate"
    case 286: return "timerfd_settime"
    case 287: return "timerfd_gettime"
    case 288: return "accept4"
    case 289: return "signalfd4"
    case 290: return "eventfd2"
    case 291: return "epoll_create1"
    case 292: return "dup3"
    case 293: return "pipe2"
    case 294: return "inotify_init1"
    case 295: return "preadv"
    case 296: return "pwritev"
    case 297: return "rt_tgsigqueueinfo"
    case 298: return "perf_event_open"
    case 299: return "recvmmsg"
    case 300: return "fanotify_init"
    case 301: return "fanotify_mark"
    case 302: return "prlimit64"
    case 303: return "name_to_handle_at"
    case 304: return "open_by_handle_at"
    case 305: return "clock_adjtime"
    case 306: return "syncfs"
    case 307: return "sendmmsg"
    case 308: return "setns"
    case 309: return "getcpu"
    case 310: return "process_vm_readv"
    case 311: return "process_vm_writev"
    case 312: return "kcmp"
    case 313: return "finit_module"
    case 314: return "sched_setattr"
    case 315: return "sched_getattr"
    case 316: return "renameat2"
    case 317: return "seccomp"
    case 318: return "getrandom"
    case 319: return "memfd_create"
    case 320: return "kexec_file_load"
    case 321: return "bpf"
    case 322: return "execveat"
    case 323: return "userfaultfd"
    case 324: return "membarrier"
    case 325: return "mlock2"
    case 326: return "copy_file_range"
    case 327: return "preadv2"
    case 328: return "pwritev2"
    case 329: return "pkey_mprotect"
    case 330: return "pkey_alloc"
    case 331: return "pkey_free"
    case 332: return "statx"
    case 333: return "io_pgetevents"
    case 334: return "rseq"
    case 424: return "pidfd_send_signal"
    case 425: return "io_uring_setup"
    case 426: return "io_uring_enter"
    case 427: return "io_uring_register"
    case 428: return "open_tree"
    case 429: return "move_mount"
    case 430: return "fsopen"
    case 431: return "fsconfig"
    case 432: return "fsmount"
    case 433: return "fspick"
    case 434: return "pidfd_open"
    case 435: return "clone3"
    case 436: return "close_range"
    case 437: return "openat2"
    case 438: return "pidfd_getfd"
    case 439: return "faccessat2"
    case 440: return "process_madvise"
    case 441: return "epoll_pwait2"
    case 442: return "mount_setattr"
    case 443: return "quotactl_fd"
    case 444: return "landlock_create_ruleset"
    case 445: return "landlock_add_rule"
    case 446: return "landlock_restrict_self"
    case 447: return "memfd_secret"
    case 448: return "process_mrelease"
    case 449: return "futex_waitv"
    case 450: return "set_mempolicy_home_node"
    case 451: return "cachestat"
    case 452: return "fchmodat2"
    case 453: return "map_shadow_stack"
    case 454: return "futex_wake"
    case 455: return "futex_wait"
    case 456: return "futex_requeue"
    case 457: return "statmount"
    case 458: return "listmount"
    case 459: return "lsm_get_self_attr"
    case 460: return "lsm_set_self_attr"
    case 461: return "lsm_list_modules"
    case 462: return "mseal"
    default: return nil
    }
}

/// The number of the x86-64 system call called `name` ("openat" → 257), or nil.
/// A linear scan over the table: meant for setting up filters, not for hot paths.
public func syscallNumber(named name: String) -> Int? {
    for range in SyscallNumber.allDefinedRanges {
        for number in range {
            if let candidate = syscallName(number), staticStringEquals(candidate, name) {
                return number
            }
        }
    }
    return nil
}
