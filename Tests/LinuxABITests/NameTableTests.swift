// NameTableTests — host tests of the LinuxABI name tables: syscall numbers and names, errno
// names and messages, signal names and default actions. Cross-checked against the host's
// Linux headers (asm/unistd_64.h) and glibc's strerror(3) where the host has them.
// Neighbours: FlagRenderingTests.swift (strace text), StructLayoutTests.swift (byte layouts).

import Foundation
import Glibc
import LinuxABI
import XCTest

final class SyscallTableTests: XCTestCase {
    func testWellKnownNumbers() {
        XCTAssertEqual(SyscallNumber.read.rawValue, 0)
        XCTAssertEqual(SyscallNumber.write.rawValue, 1)
        XCTAssertEqual(SyscallNumber.mmap.rawValue, 9)
        XCTAssertEqual(SyscallNumber.rt_sigaction.rawValue, 13)
        XCTAssertEqual(SyscallNumber.ioctl.rawValue, 16)
        XCTAssertEqual(SyscallNumber.writev.rawValue, 20)
        XCTAssertEqual(SyscallNumber.clone.rawValue, 56)
        XCTAssertEqual(SyscallNumber.arch_prctl.rawValue, 158)
        XCTAssertEqual(SyscallNumber.futex.rawValue, 202)
        XCTAssertEqual(SyscallNumber.set_tid_address.rawValue, 218)
        XCTAssertEqual(SyscallNumber.exit_group.rawValue, 231)
        XCTAssertEqual(SyscallNumber.openat.rawValue, 257)
        XCTAssertEqual(SyscallNumber.newfstatat.rawValue, 262)
        XCTAssertEqual(SyscallNumber.prlimit64.rawValue, 302)
        XCTAssertEqual(SyscallNumber.getrandom.rawValue, 318)
        XCTAssertEqual(SyscallNumber.rseq.rawValue, 334)
        XCTAssertEqual(SyscallNumber.pidfd_send_signal.rawValue, 424)
        XCTAssertEqual(SyscallNumber.clone3.rawValue, 435)
        XCTAssertEqual(SyscallNumber.futex_waitv.rawValue, 449)
        XCTAssertEqual(SyscallNumber.mseal.rawValue, 462)
    }

    func testNamesOfNumbers() {
        XCTAssertEqual(syscallName(0).map { "\($0)" }, "read")
        XCTAssertEqual(syscallName(257).map { "\($0)" }, "openat")
        XCTAssertEqual(syscallName(156).map { "\($0)" }, "_sysctl")
        XCTAssertEqual(syscallName(452).map { "\($0)" }, "fchmodat2")
        XCTAssertEqual(SyscallNumber.exit_group.name.map { "\($0)" }, "exit_group")
        for unassigned in [-1, 335, 400, 423, 463, 1000] {
            XCTAssertNil(syscallName(unassigned), "\(unassigned)")
        }
    }

    func testEveryNumberRoundTripsThroughItsName() {
        var count = 0
        for range in SyscallNumber.allDefinedRanges {
            for number in range {
                guard let name = syscallName(number) else {
                    XCTFail("no name for \(number)")
                    continue
                }
                XCTAssertEqual(syscallNumber(named: "\(name)"), number, "\(name)")
                XCTAssertEqual(SyscallNumber(name: "\(name)")?.rawValue, number)
                count += 1
            }
        }
        XCTAssertEqual(count, 335 + 39)
        XCTAssertNil(syscallNumber(named: "no_such_call"))
        XCTAssertNil(syscallNumber(named: "rea"))
        XCTAssertNil(syscallNumber(named: "readd"))
        XCTAssertNil(syscallNumber(named: ""))
    }

    /// Every __NR_ the host's kernel headers define has the same number and name here.
    func testAgreesWithHostKernelHeaders() throws {
        let path = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
        guard let header = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw XCTSkip("no \(path) on this host")
        }
        var checked = 0
        for line in header.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 3, words[0] == "#define", words[1].hasPrefix("__NR_"),
                  let number = Int(words[2]) else { continue }
            let name = String(words[1].dropFirst(5))
            XCTAssertEqual(syscallName(number).map { "\($0)" }, name, "number \(number)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 350)
    }
}

final class ErrnoTests: XCTestCase {
    func testExistingConstantsKeepTheirValues() {
        XCTAssertEqual(Errno.EPERM.rawValue, 1)
        XCTAssertEqual(Errno.ENOENT.rawValue, 2)
        XCTAssertEqual(Errno.EAGAIN.rawValue, 11)
        XCTAssertEqual(Errno.EINVAL.rawValue, 22)
        XCTAssertEqual(Errno.ENOSYS.rawValue, 38)
        XCTAssertEqual(Errno.ETIMEDOUT.rawValue, 110)
        XCTAssertEqual(Errno(5), Errno.EIO)
    }

    func testNewConstants() {
        XCTAssertEqual(Errno.EOVERFLOW.rawValue, 75)
        XCTAssertEqual(Errno.ENOTSOCK.rawValue, 88)
        XCTAssertEqual(Errno.EOPNOTSUPP.rawValue, 95)
        XCTAssertEqual(Errno.ECONNREFUSED.rawValue, 111)
        XCTAssertEqual(Errno.EHWPOISON.rawValue, 133)
        XCTAssertEqual(Errno.EWOULDBLOCK, Errno.EAGAIN)
        XCTAssertEqual(Errno.ENOTSUP, Errno.EOPNOTSUPP)
        XCTAssertEqual(Errno.EDEADLOCK, Errno.EDEADLK)
        XCTAssertEqual(Errno.ERESTARTSYS.rawValue, 512)
    }

    func testNamesAndValuesAgreeWithGlibc() {
        XCTAssertEqual(Errno.ENOENT.rawValue, ENOENT)
        XCTAssertEqual(Errno.EMFILE.rawValue, EMFILE)
        XCTAssertEqual(Errno.ENOTEMPTY.rawValue, ENOTEMPTY)
        XCTAssertEqual(Errno.ECONNRESET.rawValue, ECONNRESET)
        XCTAssertEqual(Errno.EINPROGRESS.rawValue, EINPROGRESS)
        XCTAssertEqual(Errno.ENOTRECOVERABLE.rawValue, ENOTRECOVERABLE)
        XCTAssertEqual(Errno.ERFKILL.rawValue, ERFKILL)
    }

    func testEveryMessageMatchesStrerror() {
        var named = 0
        for value in Int32(1)...133 {
            let errno = Errno(value)
            if value == 41 || value == 58 {
                XCTAssertNil(errno.name, "\(value) is unassigned on x86-64")
                XCTAssertNil(errno.message)
                continue
            }
            guard let message = errno.message, let name = errno.name else {
                XCTFail("errno \(value) has no name or message")
                continue
            }
            XCTAssertEqual("\(message)", String(cString: strerror(value)), "errno \(value)")
            XCTAssertEqual(Errno(name: "\(name)"), errno)
            named += 1
        }
        XCTAssertEqual(named, 131)
    }

    func testSpotChecks() {
        XCTAssertEqual(Errno.ENOENT.name.map { "\($0)" }, "ENOENT")
        XCTAssertEqual(Errno.ENOENT.message.map { "\($0)" }, "No such file or directory")
        XCTAssertEqual(Errno.EAGAIN.message.map { "\($0)" }, "Resource temporarily unavailable")
        XCTAssertEqual(Errno.ENOTTY.message.map { "\($0)" }, "Inappropriate ioctl for device")
        XCTAssertEqual(Errno.ENOSYS.message.map { "\($0)" }, "Function not implemented")
    }

    func testLookupByNameIncludingAliases() {
        XCTAssertEqual(Errno(name: "EINVAL"), .EINVAL)
        XCTAssertEqual(Errno(name: "EWOULDBLOCK"), .EAGAIN)
        XCTAssertEqual(Errno(name: "ENOTSUP"), .EOPNOTSUPP)
        XCTAssertEqual(Errno(name: "ERESTARTSYS"), .ERESTARTSYS)
        XCTAssertNil(Errno(name: "ENOPE"))
        XCTAssertNil(Errno(name: "enoent"))
    }

    func testStraceRendering() {
        XCTAssertEqual(Errno.ENOENT.straceDescription, "-1 ENOENT (No such file or directory)")
        XCTAssertEqual(Errno.EBADF.straceDescription, "-1 EBADF (Bad file descriptor)")
        XCTAssertEqual(Errno.ERESTARTNOHAND.straceDescription,
                       "? ERESTARTNOHAND (To be restarted if no handler)")
        XCTAssertEqual(Errno(41).straceDescription, "-1 (errno 41)")
    }

    func testSyscallReturnEncoding() {
        XCTAssertEqual(Errno.ENOMEM.syscallReturnValue, -12)
        XCTAssertEqual(Errno(syscallReturn: -2), .ENOENT)
        XCTAssertEqual(Errno(syscallReturn: -4095), Errno(4095))
        XCTAssertNil(Errno(syscallReturn: -4096), "an mmap address near the top is not an error")
        XCTAssertNil(Errno(syscallReturn: 0))
        XCTAssertNil(Errno(syscallReturn: 3))
    }
}

final class SignalTests: XCTestCase {
    func testNumbersMatchGlibc() {
        XCTAssertEqual(Signal.SIGSEGV.rawValue, SIGSEGV)
        XCTAssertEqual(Signal.SIGCHLD.rawValue, SIGCHLD)
        XCTAssertEqual(Signal.SIGSTKFLT.rawValue, SIGSTKFLT)
        XCTAssertEqual(Signal.SIGSYS.rawValue, SIGSYS)
        XCTAssertEqual(Signal.SIGPWR.rawValue, SIGPWR)
        XCTAssertEqual(Signal.SIGWINCH.rawValue, SIGWINCH)
    }

    func testNamesRoundTrip() {
        for number in Int32(1)...64 {
            let signal = Signal(number)
            XCTAssertEqual(Signal(name: signal.straceName), signal, signal.straceName)
            XCTAssertEqual(String(cString: strsignal(number)).isEmpty, false)
        }
        XCTAssertEqual(Signal.SIGSEGV.straceName, "SIGSEGV")
        XCTAssertEqual(Signal(32).straceName, "SIGRTMIN")
        XCTAssertEqual(Signal(34).straceName, "SIGRT_2")
        XCTAssertEqual(Signal(64).straceName, "SIGRT_32")
        XCTAssertEqual(Signal(99).straceName, "99")
        XCTAssertEqual(Signal(name: "TERM"), .SIGTERM)
        XCTAssertEqual(Signal(name: "SIGIOT"), .SIGABRT)
        XCTAssertEqual(Signal(name: "SIGPOLL"), .SIGIO)
        XCTAssertNil(Signal(name: "SIGFOO"))
    }

    func testDefaultActionsFollowSignal7() {
        XCTAssertEqual(Signal.SIGSEGV.defaultAction, .coreDump)
        XCTAssertEqual(Signal.SIGABRT.defaultAction, .coreDump)
        XCTAssertEqual(Signal.SIGSYS.defaultAction, .coreDump)
        XCTAssertEqual(Signal.SIGKILL.defaultAction, .terminate)
        XCTAssertEqual(Signal.SIGPIPE.defaultAction, .terminate)
        XCTAssertEqual(Signal.SIGCHLD.defaultAction, .ignore)
        XCTAssertEqual(Signal.SIGWINCH.defaultAction, .ignore)
        XCTAssertEqual(Signal.SIGURG.defaultAction, .ignore)
        XCTAssertEqual(Signal.SIGCONT.defaultAction, .continue)
        XCTAssertEqual(Signal.SIGTSTP.defaultAction, .stop)
        XCTAssertEqual(Signal.SIGSTOP.defaultAction, .stop)
        XCTAssertEqual(Signal(40).defaultAction, .terminate)
    }

    func testSignalSets() {
        var set = SignalSet([.SIGINT, .SIGTERM])
        XCTAssertEqual(set.rawValue, 1 << 1 | 1 << 14)
        XCTAssertTrue(set.contains(.SIGINT))
        XCTAssertFalse(set.contains(.SIGHUP))
        XCTAssertEqual(set.lowest, .SIGINT)
        set.remove(.SIGINT)
        XCTAssertEqual(set.lowest, .SIGTERM)
        XCTAssertEqual(SignalSet.unblockable.rawValue, 1 << 8 | 1 << 18)
    }
}
