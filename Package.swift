// swift-tools-version: 6.1
import PackageDescription
import Foundation

/// Release builds on an x86-64 Linux host whose CPU has AVX2, FMA and BMI2 (every x86-64 server and
/// desktop CPU since 2013-2015) target Haswell's instruction set, so the kernels' SIMD8<Float> and
/// SIMD4<Double> arithmetic runs as single 256-bit instructions (~5 % less CPU for a whole run).
/// Swift never contracts `a * b + c` into an FMA by itself, so the outputs are bit-identical to a
/// baseline x86-64 build (checked artifact by artifact on the demo series, docs/benchmarks.md).
/// `TCBUILD_PORTABLE=1` builds for baseline x86-64 (a binary to copy to an older machine).
let hostCPU: [SwiftSetting] = {
    #if arch(x86_64) && os(Linux)
    if ProcessInfo.processInfo.environment["TCBUILD_PORTABLE"] == "1" { return [] }
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    let flags = Set(line.split(separator: " ").map(String.init))
    guard flags.isSuperset(of: ["avx2", "fma", "bmi2"]) else { return [] }
    return [.unsafeFlags(["-target-cpu", "haswell"], .when(configuration: .release))]
    #else
    return []
    #endif
}()

let package = Package(
    name: "tcbuild",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tcbuild", targets: ["tcbuild"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries from Debian, wrapped as system-library modules (C stays in these folders).
        .systemLibrary(name: "CFITSIO", path: "Sources/CFITSIO", pkgConfig: "cfitsio",
                       providers: [.apt(["libcfitsio-dev"])]),
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1",
                       providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CXXHash", path: "Sources/CXXHash", pkgConfig: "libxxhash",
                       providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CRabbitMQ", path: "Sources/CRabbitMQ", pkgConfig: "librabbitmq",
                       providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3",
                       providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),

        // The generic engine: nodes, fingerprints, planning, scheduling, explain. No SQLite, no astronomy.
        .target(name: "Graph", dependencies: ["CXXHash"], swiftSettings: hostCPU),
        // SQLite manifest, content-addressed store, stat cache, lock, gc, verify.
        .target(name: "Cache", dependencies: ["Graph", "CSQLite", "CXXHash"], swiftSettings: hostCPU),
        // Image buffers and kernels: FITS I/O, PNG, statistics, stars/PSF, warp, CFA, FFT, synthetic series.
        .target(name: "Imaging", dependencies: ["CFITSIO", "CZlib", "CFFTW"], swiftSettings: hostCPU),
        // The pipeline phases as graph nodes, and the typed config.
        .target(name: "Steps", dependencies: ["Graph", "Cache", "Imaging", "Executors", "CYAML"], swiftSettings: hostCPU),
        // Tile tasks and the executors that run them: local threads, or RabbitMQ master and workers.
        .target(name: "Executors", dependencies: ["Graph", "Cache", "CRabbitMQ", "CCrypto"], swiftSettings: hostCPU),
        .executableTarget(name: "tcbuild", dependencies: [
            "Steps", "Graph", "Cache", "Imaging", "Executors", "CMalloc",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: hostCPU),

        // Helpers shared by the test targets (temporary directories, seeded RNG, child processes).
        // Imaging only for its SplitMix64, which TestRNG wraps.
        .target(name: "TestSupport", dependencies: ["Imaging"], path: "Tests/TestSupport"),
        .testTarget(name: "GraphTests", dependencies: ["Graph", "TestSupport"]),
        .testTarget(name: "CacheTests", dependencies: ["Cache", "Graph", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "CZlib", "TestSupport"]),
        .testTarget(name: "ExecutorsTests", dependencies: ["Executors", "Graph", "Cache", "TestSupport", "tcbuild"]),
        .testTarget(name: "StepsTests", dependencies: ["Steps", "Graph", "Cache", "Imaging", "TestSupport"]),
        // The CLI: exit statuses, verbs and progress through the real binary, and the engine harness (_toy).
        .testTarget(name: "tcbuildTests", dependencies: ["tcbuild", "Steps", "Cache", "Graph", "Imaging", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
