// GDBSession — `egg run --gdb [PORT]`: the gdb command line that debugs kernel and guest
// together (EggHost layer, host only).
//
// QEMU starts with its CPU stopped and a gdb stub on PORT (QEMUCommand.swift, gdbPort). The
// kernel is linked at its run address (Sources/KernelArch/kernel.ld), so `file` loads its
// symbols as they are; the guest's are added with add-symbol-file, shifted by the load base
// for a static-PIE (the same base the kernel picks, ELF.LoadPlan). Both live in one address
// space while the guest runs (the kernel in the lower half at 0x7f8000000000, see
// Sources/KernelArch/boot.S), so breakpoints in either work.

import Foundation

/// The words of the gdb command (for display with shellQuoted).
public func gdbCommand(kernelPath: String, guestPath: String, guestLoadBase: UInt64, port: Int) -> [String] {
    var guestSymbols = "add-symbol-file " + guestPath
    if guestLoadBase != 0 { guestSymbols += " -o 0x" + String(guestLoadBase, radix: 16) }
    return ["gdb", "-q",
            "-ex", "set confirm off",
            "-ex", "file " + kernelPath,
            "-ex", guestSymbols,
            "-ex", "target remote localhost:\(port)"]
}

/// What egg prints before starting QEMU with --gdb.
public func gdbInstructions(kernelPath: String, guestPath: String, guestLoadBase: UInt64, port: Int) -> String {
    let command = gdbCommand(kernelPath: absolutePath(kernelPath), guestPath: absolutePath(guestPath),
                             guestLoadBase: guestLoadBase, port: port)
    return """
        QEMU is stopped before the first instruction with a gdb stub on localhost:\(port).
        In another terminal, load the kernel's and the guest's symbols and attach with:
          \(shellQuoted(command))
        then e.g. `break main` and `continue`.
        """
}

func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    return FileManager.default.currentDirectoryPath + "/" + path
}
