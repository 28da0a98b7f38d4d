// swift-tools-version:6.0
// egg — host side of the build.
//
// SwiftPM builds the logic modules that need no hardware (LinuxABI, ELF, KernelCore, Net,
// Drivers) for the host so that `swift test` exercises them, plus the `egg` CLI.
// The kernel itself (KernelArch, KernelRuntime, Kernel, and the same logic modules again in
// Embedded Swift) is built by the Makefile with the flags kept there in one place.
import PackageDescription

let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "egg",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "egg", targets: ["egg"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "LinuxABI"),
        .target(name: "ELF"),
        .target(name: "KernelCore", dependencies: ["LinuxABI", "ELF", "Net"]),
        .target(name: "Drivers", dependencies: ["LinuxABI", "KernelCore"]),
        .target(name: "Net", dependencies: ["LinuxABI"]),
        .systemLibrary(name: "CLibELF", pkgConfig: "libelf", providers: [.apt(["libelf-dev"])]),
        .target(name: "EggHost", dependencies: ["LinuxABI", "ELF", "KernelCore", "CLibELF"]),
        .executableTarget(name: "egg", dependencies: [
            "EggHost",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "LinuxABITests", dependencies: ["LinuxABI"]),
        .testTarget(name: "ELFTests", dependencies: ["ELF"]),
        .testTarget(name: "KernelCoreTests", dependencies: ["KernelCore", "LinuxABI", "ELF", "Drivers", "Net"]),
        .testTarget(name: "EggHostTests", dependencies: ["EggHost"]),
        .testTarget(name: "NetTests", dependencies: ["Net", "Drivers"]),
    ]
)
