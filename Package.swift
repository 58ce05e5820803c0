// swift-tools-version: 6.1
import PackageDescription

// Native libraries that scripts/bootstrap unpacks from the pinned OpenVINO wheel (never committed).
let deps = Context.packageDirectory + "/.deps"
let openVINOInclude = deps + "/openvino/include"
let openVINOLib = deps + "/openvino/lib"
/// Swift modules that (transitively) import COpenVINO need its headers to load the clang module.
let openVINOSwiftFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I" + openVINOInclude])]

let package = Package(
    name: "refvision",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "refvision", targets: ["refvision"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", .upToNextMajor(from: "3.12.3")),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // FFmpeg's libavformat/libavcodec/libswscale/libavutil (Debian -dev packages) plus a header of
        // static inline helpers for the macros Swift can't import.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]
        ),
        // The OpenVINO C API, with a C wrapper for the variadic ov_core_compile_model.
        .target(
            name: "COpenVINO",
            cSettings: [.unsafeFlags(["-I" + openVINOInclude])],
            linkerSettings: [
                .unsafeFlags(["-L" + openVINOLib, "-Xlinker", "-rpath", "-Xlinker", openVINOLib]),
                .linkedLibrary("openvino_c"),
            ]
        ),
        // AWS Signature Version 4 (header signing and presigned URLs), usable on its own.
        .target(name: "AWSSigner", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Our AWS protocol layer: credentials, retries, typed errors, S3/SQS/SNS/DynamoDB/CloudWatch/ECS clients.
        .target(name: "AWS", dependencies: [
            "AWSSigner",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // Signing and SQS round-trip benchmark against boto3 (scripts/bench-aws).
        .executableTarget(name: "refvision-bench-aws", dependencies: ["AWS", "AWSSigner"]),
        // Pure data: the pose-track format shared by Pose, Judging and the CLI.
        .target(name: "PoseData"),
        // RGB images and the drawing primitives used for overlays. Pure Swift.
        .target(name: "Imaging"),
        // RGB24 <-> YUV 4:2:0 for rectangles of a picture: SSSE3 where the CPU has it, plain C otherwise.
        // Optimised in debug builds too: at -O0 every intrinsic is a call (the tests draw whole videos).
        .target(name: "CColorConvert", cSettings: [.unsafeFlags(["-O2"])]),
        // Video and image decode/encode on FFmpeg.
        .target(name: "Media", dependencies: ["CColorConvert", "CFFmpeg", "Imaging"]),
        // BlazePose (detector + full landmark model) on OpenVINO.
        .target(
            name: "Pose",
            dependencies: ["COpenVINO", "Imaging", "PoseData"],
            swiftSettings: openVINOSwiftFlags
        ),
        // IPF lift judging from a pose track. Pure Swift, no I/O.
        .target(name: "Judging", dependencies: ["PoseData"]),
        // Worker-fleet scaling: the policy model (scaling/worker-policy.json) and a discrete-event
        // simulator of Application Auto Scaling. Pure Swift, no I/O.
        .target(name: "Scaling"),
        // Draws the annotated replay of a judged lift. Pure drawing, no I/O.
        .target(name: "Replay", dependencies: ["Imaging", "Judging", "PoseData"]),
        // sched_setattr(2) for the calling thread (glibc has no wrapper; syscall(2) is variadic).
        .target(name: "CThreadSched"),
        // The decode → pose → draw → encode pipeline, stages overlapped on threads.
        .target(
            name: "Pipeline",
            dependencies: ["CThreadSched", "Media", "Pose", "PoseData", "Imaging", "Judging", "Replay"],
            swiftSettings: openVINOSwiftFlags
        ),
        // The fleet's shared model: job/result messages, intake events, key convention, dispatch rules and
        // the three ports (JobQueue, ObjectStore, DecisionStore). Pure Swift, no I/O.
        .target(name: "Fleet", dependencies: ["Judging", "AWSSigner", .product(name: "Crypto", package: "swift-crypto")]),
        // The ports on one machine: a SQLite queue with SQS semantics, directories as buckets, a SQLite
        // decision table (GRDB).
        .target(name: "Embedded", dependencies: [
            "Fleet", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The ports on AWS: SQS, S3, DynamoDB (plus ECS/CloudWatch for the scaling metrics).
        .target(name: "FleetAWS", dependencies: ["Fleet", "AWS"]),
        // Signed replay links that outlive role credentials: HMAC-SHA256 tokens (job, expiry, key id) with
        // key rotation and constant-time verification. Pure Swift. (Issue 7 builds the notifier and the
        // replay service on it.)
        .target(name: "ReplayLinks", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // What every long-running service shares: heartbeat file, JSON log lines.
        .target(name: "ServiceSupport", dependencies: [
            "AWSSigner", .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Intake events → one job per object version.
        .target(name: "Dispatcher", dependencies: [
            "Fleet", "ServiceSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Results → e-mails: claim the decision, publish to the coaches (SNS or the outbox), confirm.
        .target(name: "Notifier", dependencies: [
            "Fleet", "ServiceSupport", "ReplayLinks", "Judging", "AWSSigner",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The replay web service (Hummingbird): signed links → replay page, meet dashboard, health.
        .target(name: "ReplayServer", dependencies: [
            "Fleet", "ReplayLinks", "Judging", "Embedded", "AWS",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        // Jobs → decisions: download, judge, replay, record, result.
        .target(
            name: "Worker",
            dependencies: [
                "Fleet", "ServiceSupport", "AWS", "Pipeline", "Pose", "Judging", "Media", "Replay",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: openVINOSwiftFlags
        ),
        .executableTarget(
            name: "refvision",
            dependencies: [
                "Media", "Pose", "PoseData", "Imaging", "Pipeline", "Judging", "Replay", "Scaling", "AWS",
                "Fleet", "FleetAWS", "Embedded", "Dispatcher", "Worker", "ServiceSupport", "Notifier", "ReplayServer",
                "ReplayLinks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: openVINOSwiftFlags
        ),
        // Paths of test data and a runner for the ffmpeg CLI that generates test clips.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Scaling"]),
        .testTarget(name: "PoseDataTests", dependencies: ["PoseData"]),
        .testTarget(name: "ScalingTests", dependencies: ["Scaling"]),
        .testTarget(name: "FleetTests", dependencies: ["Fleet", "Judging"]),
        .testTarget(name: "ReplayLinksTests", dependencies: ["ReplayLinks"]),
        // The e-mail composer, RFC 5322 rendering, filter policies and the notifier on the embedded parts.
        .target(name: "FleetFixtures", dependencies: ["Fleet", "Judging"], path: "Tests/FleetFixtures"),
        .testTarget(name: "NotifierTests", dependencies: ["Notifier", "Fleet", "Embedded", "Judging", "ReplayLinks", "FleetFixtures"]),
        // The replay service in process (HummingbirdTesting) and live (headless Chromium).
        .testTarget(name: "ReplayServerTests", dependencies: [
            "ReplayServer", "Fleet", "Embedded", "ReplayLinks", "Judging", "TestSupport", "FleetFixtures", "AWS", "AWSSigner",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        // The ports' shared conformance suites (SQS/S3/DynamoDB semantics), run on both backends.
        .target(name: "PortConformance", dependencies: ["Fleet"], path: "Tests/PortConformance"),
        .testTarget(name: "EmbeddedTests", dependencies: ["Embedded", "Fleet", "PortConformance"]),
        // The ports, the dispatcher and the worker on both backends (embedded and moto), in process and as
        // killed processes.
        .testTarget(
            name: "FleetIntegrationTests",
            dependencies: ["Fleet", "Embedded", "FleetAWS", "AWS", "AWSSigner", "Dispatcher", "Worker", "Notifier", "ReplayLinks",
                           "FleetFixtures",
                           "TestSupport", "PortConformance",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: openVINOSwiftFlags
        ),
        .testTarget(name: "AWSTests", dependencies: [
            "AWS", "AWSSigner", "Fleet", "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "JudgingTests", dependencies: ["Judging", "PoseData", "Scaling"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Pipeline", "Pose", "Judging", "Media", "TestSupport"],
            swiftSettings: openVINOSwiftFlags
        ),
        // Runs the built binary as a user would (exit codes, outputs).
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Media", "Imaging", "Judging", "PoseData", "Replay", "Scaling", "TestSupport"],
                    swiftSettings: openVINOSwiftFlags),
        .testTarget(name: "MediaTests", dependencies: ["Media", "CFFmpeg", "Imaging", "Scaling", "TestSupport"]),
        .testTarget(
            name: "PoseTests",
            dependencies: ["Pose", "PoseData", "Media", "Imaging", "Pipeline", "Scaling", "TestSupport"],
            swiftSettings: openVINOSwiftFlags
        ),
    ],
    swiftLanguageModes: [.v6]
)
