import AWSSigner
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Metadata of an S3 object (HeadObject/GetObject response headers).
public struct S3ObjectInfo: Sendable, Equatable {
    public var contentLength: Int64
    public var contentType: String?
    public var eTag: String?
    public var lastModified: Date?
    /// `bytes 0-9/443` for ranged reads.
    public var contentRange: String?
    public var versionId: String?
    /// User metadata (`x-amz-meta-*`), names lower-cased without the prefix.
    public var metadata: [String: String]

    init(headers: HTTPHeaders) {
        contentLength = headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0
        contentType = headers.first(name: "Content-Type")
        eTag = headers.first(name: "ETag")
        lastModified = headers.first(name: "Last-Modified").flatMap(AWSDate.parseHTTPDate)
        contentRange = headers.first(name: "Content-Range")
        versionId = headers.first(name: "x-amz-version-id")
        var metadata: [String: String] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            if lower.hasPrefix("x-amz-meta-") { metadata[String(lower.dropFirst("x-amz-meta-".count))] = value }
        }
        self.metadata = metadata
    }
}

/// A byte range for GetObject (`Range` header).
public enum S3Range: Sendable, Equatable {
    /// Bytes `first...last`, inclusive.
    case bytes(Int64, Int64)
    /// From `first` to the end.
    case from(Int64)
    /// The last `count` bytes.
    case suffix(Int64)

    var headerValue: String {
        switch self {
        case .bytes(let first, let last): return "bytes=\(first)-\(last)"
        case .from(let first): return "bytes=\(first)-"
        case .suffix(let count): return "bytes=-\(count)"
        }
    }

    func validate() throws {
        switch self {
        case .bytes(let first, let last):
            guard first >= 0, last >= first else { throw AWSClientError.invalidArgument("range \(first)-\(last) is empty or negative") }
        case .from(let first):
            guard first >= 0 else { throw AWSClientError.invalidArgument("range start \(first) is negative") }
        case .suffix(let count):
            guard count > 0 else { throw AWSClientError.invalidArgument("suffix range of \(count) bytes") }
        }
    }
}

public struct S3ObjectSummary: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var eTag: String?
    public var lastModified: Date?
    public var storageClass: String?
}

/// One page of ListObjectsV2.
public struct S3ListPage: Sendable, Equatable {
    public var objects: [S3ObjectSummary]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextContinuationToken: String?
}

/// A queue target for bucket notifications.
public struct S3QueueNotification: Sendable, Equatable {
    public var id: String?
    public var queueArn: String
    /// e.g. `s3:ObjectCreated:*`.
    public var events: [String]
    public var prefix: String?
    public var suffix: String?

    public init(id: String? = nil, queueArn: String, events: [String] = ["s3:ObjectCreated:*"], prefix: String? = nil, suffix: String? = nil) {
        self.id = id
        self.queueArn = queueArn
        self.events = events
        self.prefix = prefix
        self.suffix = suffix
    }
}

/// S3 (REST-XML): the object calls the fleet needs, streamed to and from files.
public struct S3Client: Sendable {
    public let client: AWSClient
    /// Files at least this large go through multipart upload.
    public var multipartThreshold: Int64 = 16 << 20
    /// Part size for multipart uploads (at least 5 MiB; grown to keep under 10,000 parts).
    public var partSize: Int64 = 8 << 20
    /// Parts uploaded at once.
    public var uploadConcurrency: Int = 4

    public static let minimumPartSize: Int64 = 5 << 20
    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    public init(client: AWSClient) { self.client = client }

    // MARK: - Addressing

    /// Endpoint and encoded path for a bucket (and key). Virtual-hosted style on AWS for DNS-safe names;
    /// path style for overridden endpoints (moto, LocalStack), dotted names and `AWS_S3_FORCE_PATH_STYLE`.
    func location(bucket: String, key: String? = nil) throws -> (AWSEndpoint, String) {
        try Self.validateBucket(bucket)
        var encodedKey = ""
        if let key {
            try Self.validateKey(key)
            encodedKey = AWSURIEncoding.encode(key, keepSlash: true)
        }
        var endpoint = client.configuration.endpoint(for: .s3).endpoint
        if client.configuration.s3UsesPathStyle || !Self.isVirtualHostable(bucket) {
            return (endpoint, "/\(bucket)/\(encodedKey)")
        }
        endpoint.host = "\(bucket).\(endpoint.host)"
        return (endpoint, "/\(encodedKey)")
    }

    static func validateBucket(_ bucket: String) throws {
        guard (3...63).contains(bucket.utf8.count),
            bucket.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." || $0 == "_"
                    || ("A"..."Z").contains($0)
            })
        else { throw AWSClientError.invalidArgument("'\(bucket)' is not a valid bucket name") }
    }

    static func validateKey(_ key: String) throws {
        guard !key.isEmpty else { throw AWSClientError.invalidArgument("empty object key") }
        guard key.utf8.count <= 1024 else { throw AWSClientError.invalidArgument("object key longer than 1024 bytes") }
    }

    static func isVirtualHostable(_ bucket: String) -> Bool {
        !bucket.contains(".") && !bucket.contains("_") && bucket == bucket.lowercased() && !bucket.hasPrefix("-")
            && !bucket.hasSuffix("-")
    }

    func context(_ operation: String, idempotent: Bool = true, transfer: Bool = false) -> AWSOperationContext {
        AWSOperationContext(
            service: .s3, operation: operation, idempotent: idempotent,
            timeout: transfer ? client.configuration.timeouts.transfer : client.configuration.timeouts.request)
    }

    func parseXML(_ body: [UInt8], operation: String) throws -> AWSXMLNode {
        do {
            return try AWSXML.parse(body)
        } catch {
            throw AWSClientError.malformedResponse(service: "S3", operation: operation, reason: "\(error)")
        }
    }

    // MARK: - Buckets

    /// Creates a bucket in the client's region (succeeds if you already own it).
    public func createBucket(_ bucket: String) async throws {
        let (endpoint, path) = try location(bucket: bucket)
        var body: AWSRequestBody = .empty
        if client.configuration.region != "us-east-1" {
            var writer = XMLWriter()
            writer.element("CreateBucketConfiguration", xmlns: Self.namespace) {
                $0.element("LocationConstraint", client.configuration.region)
            }
            body = .bytes(Array(writer.output.utf8))
        }
        do {
            _ = try await client.execute(
                AWSHTTPRequest(method: .PUT, endpoint: endpoint, path: path, body: body), context: context("CreateBucket"))
        } catch let error as AWSError where error.code == .bucketAlreadyOwnedByYou {
            return
        }
    }

    /// HeadBucket: a cheap check that the bucket exists and is reachable with these credentials.
    public func headBucket(_ bucket: String) async throws {
        let (endpoint, path) = try location(bucket: bucket)
        _ = try await client.execute(AWSHTTPRequest(method: .HEAD, endpoint: endpoint, path: path), context: context("HeadBucket"))
    }

    public func deleteBucket(_ bucket: String) async throws {
        let (endpoint, path) = try location(bucket: bucket)
        _ = try await client.execute(AWSHTTPRequest(method: .DELETE, endpoint: endpoint, path: path), context: context("DeleteBucket"))
    }

    /// Replaces the bucket's notification configuration with these queue targets.
    public func putBucketNotificationConfiguration(bucket: String, queues: [S3QueueNotification]) async throws {
        let (endpoint, path) = try location(bucket: bucket)
        var writer = XMLWriter()
        writer.element("NotificationConfiguration", xmlns: Self.namespace) { writer in
            for queue in queues {
                writer.element("QueueConfiguration") { writer in
                    if let id = queue.id { writer.element("Id", id) }
                    writer.element("Queue", queue.queueArn)
                    for event in queue.events { writer.element("Event", event) }
                    if queue.prefix != nil || queue.suffix != nil {
                        writer.element("Filter") { writer in
                            writer.element("S3Key") { writer in
                                if let prefix = queue.prefix {
                                    writer.element("FilterRule") { $0.element("Name", "prefix"); $0.element("Value", prefix) }
                                }
                                if let suffix = queue.suffix {
                                    writer.element("FilterRule") { $0.element("Name", "suffix"); $0.element("Value", suffix) }
                                }
                            }
                        }
                    }
                }
            }
        }
        _ = try await client.execute(
            AWSHTTPRequest(
                method: .PUT, endpoint: endpoint, path: path, query: [("notification", "")],
                headers: [("Content-Type", "application/xml")], body: .bytes(Array(writer.output.utf8))),
            context: context("PutBucketNotificationConfiguration"))
    }

    // MARK: - Objects

    /// PutObject from memory (signed payload).
    @discardableResult
    public func putObject(
        bucket: String, key: String, bytes: [UInt8], contentType: String? = nil, metadata: [String: String] = [:]
    ) async throws -> String? {
        let (endpoint, path) = try location(bucket: bucket, key: key)
        let response = try await client.execute(
            AWSHTTPRequest(
                method: .PUT, endpoint: endpoint, path: path,
                headers: try objectHeaders(contentType: contentType, metadata: metadata), body: .bytes(bytes)),
            context: context("PutObject", transfer: true))
        return response.headers.first(name: "ETag")
    }

    /// PutObject streamed from a file (`UNSIGNED-PAYLOAD`, known length). Use `uploadFile` for large files.
    @discardableResult
    public func putObject(
        bucket: String, key: String, file: String, contentType: String? = nil, metadata: [String: String] = [:]
    ) async throws -> String? {
        let size = try Self.fileSize(file)
        let (endpoint, path) = try location(bucket: bucket, key: key)
        let response = try await client.execute(
            AWSHTTPRequest(
                method: .PUT, endpoint: endpoint, path: path,
                headers: try objectHeaders(contentType: contentType, metadata: metadata),
                body: .file(path: file, offset: 0, length: size)),
            context: context("PutObject", transfer: true))
        return response.headers.first(name: "ETag")
    }

    /// Uploads a file: one PutObject below `multipartThreshold`, otherwise a multipart upload with
    /// `uploadConcurrency` parts in flight, aborted if any part fails. Returns the ETag.
    @discardableResult
    public func uploadFile(
        bucket: String, key: String, file: String, contentType: String? = nil, metadata: [String: String] = [:]
    ) async throws -> String? {
        let size = try Self.fileSize(file)
        if size < multipartThreshold {
            return try await putObject(bucket: bucket, key: key, file: file, contentType: contentType, metadata: metadata)
        }
        let partSize = Self.effectivePartSize(fileSize: size, requested: partSize)
        let uploadId = try await createMultipartUpload(bucket: bucket, key: key, contentType: contentType, metadata: metadata)
        do {
            let parts = try await uploadParts(bucket: bucket, key: key, uploadId: uploadId, file: file, size: size, partSize: partSize)
            return try await completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadId, parts: parts)
        } catch {
            do {
                try await abortMultipartUpload(bucket: bucket, key: key, uploadId: uploadId)
            } catch let abortError {
                client.logger.warning("aborting multipart upload \(uploadId) of s3://\(bucket)/\(key) failed: \(abortError)")
            }
            throw error
        }
    }

    static func effectivePartSize(fileSize: Int64, requested: Int64) -> Int64 {
        let atLeastMinimum = max(requested, minimumPartSize)
        let forPartLimit = (fileSize + 9_999) / 10_000
        return max(atLeastMinimum, forPartLimit)
    }

    private func uploadParts(
        bucket: String, key: String, uploadId: String, file: String, size: Int64, partSize: Int64
    ) async throws -> [(Int, String)] {
        let partCount = Int((size + partSize - 1) / partSize)
        let concurrency = max(1, uploadConcurrency)
        return try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var results: [(Int, String)] = []
            var next = 1
            func add(_ number: Int) {
                let offset = Int64(number - 1) * partSize
                let length = min(partSize, size - offset)
                group.addTask {
                    let etag = try await self.uploadPart(
                        bucket: bucket, key: key, uploadId: uploadId, partNumber: number, file: file, offset: offset,
                        length: length)
                    return (number, etag)
                }
            }
            while next <= min(concurrency, partCount) {
                add(next)
                next += 1
            }
            while let result = try await group.next() {
                results.append(result)
                if next <= partCount {
                    add(next)
                    next += 1
                }
            }
            return results.sorted { $0.0 < $1.0 }
        }
    }

    public func createMultipartUpload(
        bucket: String, key: String, contentType: String? = nil, metadata: [String: String] = [:]
    ) async throws -> String {
        let (endpoint, path) = try location(bucket: bucket, key: key)
        let response = try await client.execute(
            AWSHTTPRequest(
                method: .POST, endpoint: endpoint, path: path, query: [("uploads", "")],
                headers: try objectHeaders(contentType: contentType, metadata: metadata)),
            context: context("CreateMultipartUpload", idempotent: false))
        let root = try parseXML(response.body, operation: "CreateMultipartUpload")
        guard let uploadId = root.string("UploadId"), !uploadId.isEmpty else {
            throw AWSClientError.malformedResponse(service: "S3", operation: "CreateMultipartUpload", reason: "no UploadId")
        }
        return uploadId
    }

    /// Uploads one part from a file range; returns its ETag.
    public func uploadPart(
        bucket: String, key: String, uploadId: String, partNumber: Int, file: String, offset: Int64, length: Int64
    ) async throws -> String {
        guard (1...10_000).contains(partNumber) else { throw AWSClientError.invalidArgument("part number \(partNumber)") }
        let (endpoint, path) = try location(bucket: bucket, key: key)
        let response = try await client.execute(
            AWSHTTPRequest(
                method: .PUT, endpoint: endpoint, path: path,
                query: [("partNumber", String(partNumber)), ("uploadId", uploadId)],
                body: .file(path: file, offset: offset, length: length)),
            context: context("UploadPart", transfer: true))
        guard let etag = response.headers.first(name: "ETag"), !etag.isEmpty else {
            throw AWSClientError.malformedResponse(service: "S3", operation: "UploadPart", reason: "no ETag header")
        }
        return etag
    }

    /// Completes a multipart upload. S3 can answer 200 with an `<Error>` body here; that is an error too.
    @discardableResult
    public func completeMultipartUpload(bucket: String, key: String, uploadId: String, parts: [(Int, String)]) async throws -> String? {
        let (endpoint, path) = try location(bucket: bucket, key: key)
        var writer = XMLWriter()
        writer.element("CompleteMultipartUpload", xmlns: Self.namespace) { writer in
            for (number, etag) in parts {
                writer.element("Part") { $0.element("PartNumber", String(number)); $0.element("ETag", etag) }
            }
        }
        let response = try await client.execute(
            AWSHTTPRequest(
                method: .POST, endpoint: endpoint, path: path, query: [("uploadId", uploadId)],
                headers: [("Content-Type", "application/xml")], body: .bytes(Array(writer.output.utf8))),
            context: context("CompleteMultipartUpload"))
        let root = try parseXML(response.body, operation: "CompleteMultipartUpload")
        if root.name == "Error" {
            throw AWSErrorDecoder.decode(
                service: "S3", operation: "CompleteMultipartUpload", status: response.status, headers: response.headers,
                body: response.body)
        }
        return root.string("ETag")
    }

    public func abortMultipartUpload(bucket: String, key: String, uploadId: String) async throws {
        let (endpoint, path) = try location(bucket: bucket, key: key)
        _ = try await client.execute(
            AWSHTTPRequest(method: .DELETE, endpoint: endpoint, path: path, query: [("uploadId", uploadId)]),
            context: context("AbortMultipartUpload"))
    }

    /// GetObject streamed into a file (written to a temporary sibling, then renamed into place; nothing is
    /// left behind on failure). Checks that the byte count matches Content-Length.
    @discardableResult
    public func getObject(bucket: String, key: String, to destination: String, range: S3Range? = nil) async throws -> S3ObjectInfo {
        try range?.validate()
        let (endpoint, path) = try location(bucket: bucket, key: key)
        var headers: [(String, String)] = []
        if let range { headers.append(("Range", range.headerValue)) }
        let temporary = destination + ".part-" + UUID().uuidString.prefix(8).lowercased()
        do {
            let info = try await client.executeStreaming(
                AWSHTTPRequest(method: .GET, endpoint: endpoint, path: path, headers: headers),
                context: context("GetObject", transfer: true)
            ) { response in
                let info = S3ObjectInfo(headers: response.headers)
                let writer = try FileWriter(path: temporary)
                do {
                    var written: Int64 = 0
                    for try await chunk in response.body {
                        try await writer.write(chunk)
                        written += Int64(chunk.readableBytes)
                    }
                    if let expected = response.headers.first(name: "Content-Length").flatMap(Int64.init), expected != written {
                        throw AWSClientError.malformedResponse(
                            service: "S3", operation: "GetObject", reason: "body has \(written) bytes, Content-Length \(expected)")
                    }
                    try await writer.finish()
                } catch {
                    writer.close()
                    throw error
                }
                return info
            }
            guard rename(temporary, destination) == 0 else {
                throw AWSClientError.fileIO(path: destination, reason: String(cString: strerror(errno)))
            }
            return info
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// GetObject into memory (at most `maxBytes`).
    public func getObject(
        bucket: String, key: String, range: S3Range? = nil, maxBytes: Int = 64 << 20
    ) async throws -> (info: S3ObjectInfo, bytes: [UInt8]) {
        try range?.validate()
        let (endpoint, path) = try location(bucket: bucket, key: key)
        var headers: [(String, String)] = []
        if let range { headers.append(("Range", range.headerValue)) }
        var ctx = context("GetObject", transfer: true)
        ctx.maxResponseBytes = maxBytes
        let response = try await client.execute(
            AWSHTTPRequest(method: .GET, endpoint: endpoint, path: path, headers: headers), context: ctx)
        let info = S3ObjectInfo(headers: response.headers)
        if let expected = response.headers.first(name: "Content-Length").flatMap(Int.init), expected != response.body.count {
            throw AWSClientError.malformedResponse(
                service: "S3", operation: "GetObject", reason: "body has \(response.body.count) bytes, Content-Length \(expected)")
        }
        return (info, response.body)
    }

    /// HeadObject. A missing object is an `AWSError` with code `NotFound` and status 404.
    public func headObject(bucket: String, key: String) async throws -> S3ObjectInfo {
        let (endpoint, path) = try location(bucket: bucket, key: key)
        let response = try await client.execute(
            AWSHTTPRequest(method: .HEAD, endpoint: endpoint, path: path), context: context("HeadObject"))
        return S3ObjectInfo(headers: response.headers)
    }

    /// Whether the object exists (HeadObject; 404 is `false`, other errors are thrown).
    public func objectExists(bucket: String, key: String) async throws -> Bool {
        do {
            _ = try await headObject(bucket: bucket, key: key)
            return true
        } catch let error as AWSError where error.statusCode == 404 {
            return false
        }
    }

    /// DeleteObject (succeeds for missing keys, as S3 does).
    public func deleteObject(bucket: String, key: String) async throws {
        let (endpoint, path) = try location(bucket: bucket, key: key)
        _ = try await client.execute(AWSHTTPRequest(method: .DELETE, endpoint: endpoint, path: path), context: context("DeleteObject"))
    }

    /// One page of ListObjectsV2. Keys are requested URL-encoded (so control characters survive XML) and
    /// decoded here.
    public func listObjectsV2(
        bucket: String, prefix: String? = nil, delimiter: String? = nil, continuationToken: String? = nil,
        startAfter: String? = nil, maxKeys: Int? = nil
    ) async throws -> S3ListPage {
        let (endpoint, path) = try location(bucket: bucket)
        var query: [(String, String)] = [("list-type", "2"), ("encoding-type", "url")]
        if let prefix { query.append(("prefix", prefix)) }
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let startAfter { query.append(("start-after", startAfter)) }
        if let maxKeys {
            guard (1...1000).contains(maxKeys) else { throw AWSClientError.invalidArgument("max-keys \(maxKeys) not in 1...1000") }
            query.append(("max-keys", String(maxKeys)))
        }
        let response = try await client.execute(
            AWSHTTPRequest(method: .GET, endpoint: endpoint, path: path, query: query), context: context("ListObjectsV2"))
        return try Self.parseListPage(response.body)
    }

    static func parseListPage(_ body: [UInt8]) throws -> S3ListPage {
        let root: AWSXMLNode
        do {
            root = try AWSXML.parse(body)
        } catch {
            throw AWSClientError.malformedResponse(service: "S3", operation: "ListObjectsV2", reason: "\(error)")
        }
        guard root.name == "ListBucketResult" else {
            throw AWSClientError.malformedResponse(service: "S3", operation: "ListObjectsV2", reason: "root element <\(root.name)>")
        }
        let urlEncoded = root.string("EncodingType")?.lowercased() == "url"
        func decode(_ value: String) throws -> String {
            guard urlEncoded else { return value }
            guard let decoded = AWSURIEncoding.decode(value, plusIsSpace: true) else {
                throw AWSClientError.malformedResponse(service: "S3", operation: "ListObjectsV2", reason: "bad URL-encoded key '\(value)'")
            }
            return decoded
        }
        var objects: [S3ObjectSummary] = []
        for node in root.children("Contents") {
            guard let key = node.string("Key"), let sizeText = node.string("Size"), let size = Int64(sizeText) else {
                throw AWSClientError.malformedResponse(service: "S3", operation: "ListObjectsV2", reason: "<Contents> without Key/Size")
            }
            objects.append(
                S3ObjectSummary(
                    key: try decode(key), size: size, eTag: node.string("ETag"),
                    lastModified: node.string("LastModified").flatMap(AWSDate.parseISO8601),
                    storageClass: node.string("StorageClass")))
        }
        let prefixes = try root.children("CommonPrefixes").compactMap { $0.string("Prefix") }.map(decode)
        let truncated = root.string("IsTruncated")?.lowercased() == "true"
        let token = root.string("NextContinuationToken")
        if truncated && (token?.isEmpty ?? true) {
            throw AWSClientError.malformedResponse(
                service: "S3", operation: "ListObjectsV2", reason: "IsTruncated without NextContinuationToken")
        }
        return S3ListPage(objects: objects, commonPrefixes: prefixes, isTruncated: truncated, nextContinuationToken: token)
    }

    /// All pages of ListObjectsV2, as an async sequence of pages.
    public func listObjectsV2Pages(bucket: String, prefix: String? = nil, delimiter: String? = nil, pageSize: Int? = nil)
        -> S3ListPages
    {
        S3ListPages(client: self, bucket: bucket, prefix: prefix, delimiter: delimiter, pageSize: pageSize)
    }

    /// Every object under a prefix (all pages).
    public func listAllObjects(bucket: String, prefix: String? = nil) async throws -> [S3ObjectSummary] {
        var all: [S3ObjectSummary] = []
        for try await page in listObjectsV2Pages(bucket: bucket, prefix: prefix) { all += page.objects }
        return all
    }

    /// Presigned GET URL (expiry clamped to 7 days and to the credentials' expiry, with a logged warning).
    public func presignGetObject(bucket: String, key: String, expires: Int = 3600, date: Date = Date()) async throws
        -> SigV4Signer.PresignedURL
    {
        let (endpoint, path) = try location(bucket: bucket, key: key)
        let credentials = try await client.credentialProvider.getCredentials()
        let signer = SigV4Signer(credentials: credentials, region: client.configuration.region, service: "s3")
        let url = "\(endpoint.scheme)://\(endpoint.hostHeader)\(endpoint.basePath)\(path)"
        let presigned = try signer.presign(method: "GET", url: url, expires: expires, date: date)
        for warning in presigned.warnings { client.logger.warning("\(warning)") }
        return presigned
    }

    // MARK: - Helpers

    func objectHeaders(contentType: String?, metadata: [String: String]) throws -> [(String, String)] {
        var headers: [(String, String)] = []
        if let contentType { headers.append(("Content-Type", contentType)) }
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }),
                value.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F })
            else { throw AWSClientError.invalidArgument("metadata '\(name)' must be an ASCII token with a printable ASCII value") }
            headers.append(("x-amz-meta-\(name.lowercased())", value))
        }
        return headers
    }

    static func fileSize(_ path: String) throws -> Int64 {
        let reader = try FileReader(path: path)
        defer { reader.close() }
        return reader.size
    }
}

/// Pages of ListObjectsV2, fetched lazily.
public struct S3ListPages: AsyncSequence, Sendable {
    public typealias Element = S3ListPage
    let client: S3Client
    let bucket: String
    let prefix: String?
    let delimiter: String?
    let pageSize: Int?

    public struct AsyncIterator: AsyncIteratorProtocol {
        let pages: S3ListPages
        var token: String?
        var done = false

        public mutating func next() async throws -> S3ListPage? {
            if done { return nil }
            let page = try await pages.client.listObjectsV2(
                bucket: pages.bucket, prefix: pages.prefix, delimiter: pages.delimiter, continuationToken: token,
                maxKeys: pages.pageSize)
            token = page.nextContinuationToken
            done = !page.isTruncated
            return page
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pages: self) }
}
