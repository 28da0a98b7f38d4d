// BuildCommand — `egg build --syscalls F.swift -o kernel.elf` (host CLI; parsing only).
//
// Builds the kernel image `egg run --syscalls` would boot, for reuse with `egg run --kernel`
// or `egg pack --kernel`. The work is in Sources/EggHost/CustomSyscallKernel.swift.

import ArgumentParser
import EggHost
import Foundation

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a kernel with custom Swift system call handlers.",
        usage: "egg build --syscalls MySyscalls.swift -o kernel.elf",
        discussion: """
            MySyscalls.swift defines `func registerSyscalls(_ table: inout SyscallTable)` \
            (see the README, Custom system calls). It is compiled in Embedded Swift against the \
            installed or built kernel and linked into a new kernel image. Boot it with \
            `egg run --kernel kernel.elf BINARY`.

            Exit status: 0 the kernel was written; 125 the Swift file has errors (the compiler's \
            messages are shown), a usage error, or the kernel's objects or the toolchain are missing.
            """)

    @Option(name: .long, help: ArgumentHelp("The Swift file with registerSyscalls.", valueName: "file.swift"))
    var syscalls: String

    @Option(name: [.short, .long], help: ArgumentHelp("The kernel image to write.", valueName: "kernel.elf"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("The kernel whose modules to build against (default: the installed or built one).", valueName: "path"))
    var kernel: String?

    @Flag(name: .long, help: "Show the compiler and linker command lines.")
    var verbose = false

    func execute() -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        let base: KernelLocation
        switch locateKernel(option: kernel, environmentValue: environment["EGG_KERNEL"],
                            executablePath: currentExecutablePath(), exists: fileExists) {
        case .success(let found): base = found
        case .failure(let problem):
            complain(problem.message)
            return EggStatus.eggFailure
        }
        switch buildKernelWithSyscalls(source: syscalls, baseKernel: base.path, output: output, verbose: verbose) {
        case .success: return 0
        case .failure(let problem):
            complain(problem.message)
            return EggStatus.eggFailure
        }
    }

    mutating func run() throws {
        throw ExitCode(execute())
    }
}
