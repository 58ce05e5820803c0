import AWS
import Embedded
import Fleet
import Foundation

/// Embedded: the replay is a file of a directory bucket (checked against traversal and symbolic links).
public struct DirectoryVideoSource: ReplayVideoSource {
    public let store: DirectoryObjectStore

    public init(store: DirectoryObjectStore) { self.store = store }

    public func video(bucket: String, key: String) async throws -> VideoLocation {
        .file(try store.filePath(bucket: bucket, key: key))
    }
}

/// AWS: a presigned GET URL valid for `seconds` (default 5 minutes), made when the coach clicks, so the
/// link in the e-mail never depends on the credentials that signed it.
public struct S3VideoSource: ReplayVideoSource {
    public let s3: S3Client
    public let seconds: Int

    public init(s3: S3Client, seconds: Int = 300) {
        self.s3 = s3
        self.seconds = seconds
    }

    public func video(bucket: String, key: String) async throws -> VideoLocation {
        // A replay that is gone gets the service's own page, not S3's XML error after the redirect.
        do {
            _ = try await s3.headObject(bucket: bucket, key: key)
        } catch let error as AWSError where error.statusCode == 404 {
            throw FleetError.objectNotFound(bucket: bucket, key: key)
        }
        return .redirect(try await s3.presignGetObject(bucket: bucket, key: key, expires: seconds).url)
    }
}
