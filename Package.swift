// swift-tools-version: 6.1
import PackageDescription

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
        .target(name: "Graph", dependencies: ["CXXHash"]),
        // SQLite manifest, content-addressed store, stat cache, lock, gc, verify.
        .target(name: "Cache", dependencies: ["Graph", "CSQLite", "CXXHash"]),
        // Image buffers and kernels: FITS I/O, PNG, statistics, stars/PSF, warp, CFA, FFT, synthetic series.
        .target(name: "Imaging", dependencies: ["CFITSIO", "CZlib", "CFFTW"]),
        // The pipeline phases as graph nodes, and the typed config.
        .target(name: "Steps", dependencies: ["Graph", "Cache", "Imaging", "Executors", "CYAML"]),
        // Tile tasks and the executors that run them: local threads, or RabbitMQ master and workers.
        .target(name: "Executors", dependencies: ["Graph", "Cache", "CRabbitMQ", "CCrypto"]),
        .executableTarget(name: "tcbuild", dependencies: [
            "Steps", "Graph", "Cache", "Imaging", "Executors", "CMalloc",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

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
