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
        // Video and image decode/encode on FFmpeg.
        .target(name: "Media", dependencies: ["CFFmpeg", "Imaging"]),
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
        // The decode → pose → draw → encode pipeline, stages overlapped on threads.
        .target(
            name: "Pipeline",
            dependencies: ["Media", "Pose", "PoseData", "Imaging", "Judging", "Replay"],
            swiftSettings: openVINOSwiftFlags
        ),
        .executableTarget(
            name: "refvision",
            dependencies: [
                "Media", "Pose", "PoseData", "Imaging", "Pipeline", "Judging", "Replay", "Scaling", "AWS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: openVINOSwiftFlags
        ),
        // Paths of test data and a runner for the ffmpeg CLI that generates test clips.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "PoseDataTests", dependencies: ["PoseData"]),
        .testTarget(name: "ScalingTests", dependencies: ["Scaling"]),
        .testTarget(name: "AWSTests", dependencies: [
            "AWS", "AWSSigner",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "JudgingTests", dependencies: ["Judging", "PoseData"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Pipeline", "Pose", "Judging", "TestSupport"],
            swiftSettings: openVINOSwiftFlags
        ),
        // Runs the built binary as a user would (exit codes, outputs).
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline"], swiftSettings: openVINOSwiftFlags),
        .testTarget(name: "MediaTests", dependencies: ["Media", "Imaging", "TestSupport"]),
        .testTarget(
            name: "PoseTests",
            dependencies: ["Pose", "PoseData", "Media", "Imaging", "Pipeline", "TestSupport"],
            swiftSettings: openVINOSwiftFlags
        ),
    ],
    swiftLanguageModes: [.v6]
)
