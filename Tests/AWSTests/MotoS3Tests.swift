import AWSSigner
import Fleet
import AsyncHTTPClient
import Crypto
import Foundation
import Testing

@testable import AWS

@Suite(
    "S3 against moto",
    .enabled(if: ProcessInfo.processInfo.environment["REFVISION_TEST_MOTO"] != nil, "needs moto_server: set REFVISION_TEST_MOTO"))
struct MotoS3Tests {
    static let oddKeys = [
        "plain.txt", "with space.mp4", "plus+sign", "percent%25literal%", "dir/sub/file.bin", "unicode/é日本語✓.mov",
        "emoji 🏋️ lift", "a+b c%2Fd", "trailing/", "quote'\"&<>", "tilde~and*star(paren)!",
    ]

    @Test("put (from file) / head / get / delete with odd keys")
    func objectRoundTrip() async throws {
        try await Moto.withClient { client in
            let s3 = S3Client(client: client)
            let bucket = Moto.unique("odd")
            try await s3.createBucket(bucket)
            try await s3.createBucket(bucket)  // owning it already is fine
            let directory = try TemporaryDirectory()
            for (index, key) in Self.oddKeys.enumerated() {
                let path = directory.file("in-\(index)")
                let content = Array("content of \(key)".utf8)
                try Data(content).write(to: URL(fileURLWithPath: path))
                let etag = try await s3.putObject(bucket: bucket, key: key, file: path, contentType: "text/plain", metadata: ["owner": "lifter-\(index)"])
                #expect(etag?.isEmpty == false)

                let head = try await s3.headObject(bucket: bucket, key: key)
                #expect(head.contentLength == Int64(content.count), "\(key)")
                #expect(head.metadata["owner"] == "lifter-\(index)")
                #expect(head.contentType == "text/plain")

                let out = directory.file("out-\(index)")
                let info = try await s3.getObject(bucket: bucket, key: key, to: out)
                #expect(info.contentLength == Int64(content.count))
                #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(content), "\(key)")
            }
            let listed = try await s3.listAllObjects(bucket: bucket)
            #expect(Set(listed.map(\.key)) == Set(Self.oddKeys))

            for key in Self.oddKeys { try await s3.deleteObject(bucket: bucket, key: key) }
            #expect(try await s3.listAllObjects(bucket: bucket).isEmpty)
            #expect(try await s3.objectExists(bucket: bucket, key: "plain.txt") == false)
            try await s3.deleteBucket(bucket)
        }
    }

    @Test("missing objects and buckets are typed AWS errors, and failed downloads leave nothing behind")
    func missing() async throws {
        try await Moto.withClient { client in
            let s3 = S3Client(client: client)
            let bucket = Moto.unique("missing")
            try await s3.createBucket(bucket)
            let head = await #expect(throws: AWSError.self) { try await s3.headObject(bucket: bucket, key: "nope") }
            #expect(head?.statusCode == 404 && head?.code == .notFound && head?.operation == "HeadObject")

            let directory = try TemporaryDirectory()
            let get = await #expect(throws: AWSError.self) { try await s3.getObject(bucket: bucket, key: "nope", to: directory.file("x")) }
            #expect(get?.code == .noSuchKey && get?.statusCode == 404)
            #expect(directory.contents().isEmpty)

            let noBucket = await #expect(throws: AWSError.self) { try await s3.listObjectsV2(bucket: Moto.unique("nobucket")) }
            #expect(noBucket?.code == .noSuchBucket)
            try await s3.deleteBucket(bucket)
        }
    }

    @Test("Range reads: first bytes, open-ended and suffix, to memory and to a file")
    func rangeReads() async throws {
        try await Moto.withClient { client in
            let s3 = S3Client(client: client)
            let bucket = Moto.unique("range")
            try await s3.createBucket(bucket)
            let content = Array((0..<1000).map { UInt8($0 % 251) })
            try await s3.putObject(bucket: bucket, key: "clip.bin", bytes: content)

            let (first, firstBytes) = try await s3.getObject(bucket: bucket, key: "clip.bin", range: .bytes(0, 9))
            #expect(firstBytes == Array(content[0...9]))
            #expect(first.contentRange == "bytes 0-9/1000")
            let (_, tail) = try await s3.getObject(bucket: bucket, key: "clip.bin", range: .from(990))
            #expect(tail == Array(content[990...]))
            let (_, suffix) = try await s3.getObject(bucket: bucket, key: "clip.bin", range: .suffix(5))
            #expect(suffix == Array(content[995...]))

            let directory = try TemporaryDirectory()
            let info = try await s3.getObject(bucket: bucket, key: "clip.bin", to: directory.file("mid"), range: .bytes(100, 199))
            #expect(info.contentLength == 100)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: directory.file("mid")))) == Array(content[100...199]))

            let unsatisfiable = await #expect(throws: AWSError.self) {
                try await s3.getObject(bucket: bucket, key: "clip.bin", range: .from(5000))
            }
            #expect(unsatisfiable?.statusCode == 416)
            await #expect(throws: AWSClientError.self) { try await s3.getObject(bucket: bucket, key: "clip.bin", range: .bytes(10, 5)) }

            try await s3.deleteObject(bucket: bucket, key: "clip.bin")
            try await s3.deleteBucket(bucket)
        }
    }

    @Test("ListObjectsV2 paginates, filters by prefix and groups by delimiter")
    func listing() async throws {
        try await Moto.withClient { client in
            let s3 = S3Client(client: client)
            let bucket = Moto.unique("list")
            try await s3.createBucket(bucket)
            let keys = (0..<7).map { "raw/2024/\($0).mp4" } + ["raw/2025/x.mp4", "annotated/y.mp4"]
            for key in keys { try await s3.putObject(bucket: bucket, key: key, bytes: [1]) }

            var pages: [S3ListPage] = []
            for try await page in s3.listObjectsV2Pages(bucket: bucket, prefix: "raw/", pageSize: 3) { pages.append(page) }
            #expect(pages.map(\.objects.count) == [3, 3, 2])
            #expect(pages.dropLast().allSatisfy { $0.isTruncated } && pages.last?.isTruncated == false)
            #expect(Set(pages.flatMap(\.objects).map(\.key)) == Set(keys.filter { $0.hasPrefix("raw/") }))

            let grouped = try await s3.listObjectsV2(bucket: bucket, prefix: "raw/", delimiter: "/")
            #expect(grouped.commonPrefixes.sorted() == ["raw/2024/", "raw/2025/"])
            #expect(grouped.objects.isEmpty)

            for key in keys { try await s3.deleteObject(bucket: bucket, key: key) }
            try await s3.deleteBucket(bucket)
        }
    }

    @Test("multipart upload of a >16 MiB file (parallel parts) round-trips byte for byte")
    func multipart() async throws {
        try await Moto.withClient { client in
            var s3 = S3Client(client: client)
            s3.partSize = 5 << 20
            s3.uploadConcurrency = 3
            let bucket = Moto.unique("multipart")
            try await s3.createBucket(bucket)
            let directory = try TemporaryDirectory()
            let size = (17 << 20) + 12_345
            let source = try directory.randomFile("video.mp4", size: size, seed: 7)
            let key = "raw/big video+1.mp4"
            let etag = try await s3.uploadFile(bucket: bucket, key: key, file: source, contentType: "video/mp4")
            #expect(etag?.contains("-4") == true, "a 4-part upload has a multipart ETag: \(etag ?? "nil")")

            let head = try await s3.headObject(bucket: bucket, key: key)
            #expect(head.contentLength == Int64(size))
            let downloaded = directory.file("back.mp4")
            try await s3.getObject(bucket: bucket, key: key, to: downloaded)
            let original = try Data(contentsOf: URL(fileURLWithPath: source))
            let back = try Data(contentsOf: URL(fileURLWithPath: downloaded))
            #expect(SHA256.hash(data: original) == SHA256.hash(data: back))

            // A range across the 5 MiB part boundary.
            let boundary = Int64(5 << 20)
            let (_, slice) = try await s3.getObject(bucket: bucket, key: key, range: .bytes(boundary - 10, boundary + 9))
            #expect(slice == Array(original[Int(boundary - 10)...Int(boundary + 9)]))

            try await s3.deleteObject(bucket: bucket, key: key)
            try await s3.deleteBucket(bucket)
        }
    }

    @Test("presigned GET URLs fetch the object")
    func presign() async throws {
        try await Moto.withClient { client in
            let s3 = S3Client(client: client)
            let bucket = Moto.unique("presign")
            try await s3.createBucket(bucket)
            let key = "shared/clip 1+é.mp4"
            try await s3.putObject(bucket: bucket, key: key, bytes: Array("presigned body".utf8))
            let presigned = try await s3.presignGetObject(bucket: bucket, key: key, expires: 600)
            #expect(presigned.url.contains("X-Amz-Expires=600") && presigned.url.contains("/\(bucket)/shared/clip%201%2B%C3%A9.mp4?"))
            let response = try await client.httpClient.execute(HTTPClientRequest(url: presigned.url), timeout: .seconds(10))
            #expect(response.status == .ok)
            #expect(String(buffer: try await response.body.collect(upTo: 1024)) == "presigned body")

            let long = try await s3.presignGetObject(bucket: bucket, key: key, expires: 30 * 86_400)
            #expect(long.expiresIn == 604_800 && !long.warnings.isEmpty)
            try await s3.deleteObject(bucket: bucket, key: key)
            try await s3.deleteBucket(bucket)
        }
    }

    @Test("bucket notifications reach SQS; the event parses despite moto's quirks")
    func notifications() async throws {
        try await Moto.withClient { client in
            let s3 = S3Client(client: client)
            let sqs = SQSClient(client: client)
            let bucket = Moto.unique("events")
            let queue = try await sqs.createQueue(name: Moto.unique("events"))
            let queueArn = try #require(try await sqs.getQueueAttributes(queueURL: queue, names: ["QueueArn"])["QueueArn"])
            try await s3.createBucket(bucket)
            try await s3.putBucketNotificationConfiguration(
                bucket: bucket, queues: [S3QueueNotification(id: "intake", queueArn: queueArn, events: ["s3:ObjectCreated:*"], prefix: "uploads/")])
            let key = "uploads/lifter 7/squat+1 é.mp4"
            try await s3.putObject(bucket: bucket, key: key, bytes: Array(repeating: 9, count: 321))
            try await s3.putObject(bucket: bucket, key: "elsewhere/x.mp4", bytes: [1])

            var records: [S3EventRecord] = []
            let deadline = Date().addingTimeInterval(10)
            while records.isEmpty && Date() < deadline {
                for message in try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 1) {
                    switch try S3EventNotification.parse(message.body) {
                    case .testEvent: break  // sent when the configuration is saved
                    case .records(let found): records += found
                    }
                    try await sqs.deleteMessage(queueURL: queue, receiptHandle: message.receiptHandle)
                }
            }
            #expect(records.count == 1)
            #expect(records.first?.key == key)
            #expect(records.first?.bucket == bucket && records.first?.size == 321 && records.first?.isObjectCreated == true)
            #expect(records.first?.eventTime.map { abs($0.timeIntervalSinceNow) < 300 } == true)

            try await s3.deleteObject(bucket: bucket, key: key)
            try await s3.deleteObject(bucket: bucket, key: "elsewhere/x.mp4")
            try await s3.deleteBucket(bucket)
            try await sqs.deleteQueue(queueURL: queue)
        }
    }
}
