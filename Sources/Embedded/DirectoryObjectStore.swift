import Fleet
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An object store on the local file system: bucket `b` is the directory `root/b`, key `a/b/c.mp4` the
/// file `root/b/a/b/c.mp4`. Files may also be dropped into a bucket directory by hand (the watched raw
/// folder); they are objects like uploaded ones.
///
/// - **Keys** are S3 keys restricted to what maps safely onto paths: not empty, at most 1024 bytes, not
///   absolute, no empty, `.` or `..` segment, no segment starting with `.` (hidden names are reserved for
///   the store's temp and sidecar files), no control characters, segments of at most 255 bytes (244 for
///   the last, whose sidecar name adds 11). A key cannot name both an object and a "folder" of other
///   objects (`a/b` and `a/b/c`). Other keys throw `FleetError.invalidKey`.
/// - **Uploads** are atomic: the content is copied into a hidden temp file in the destination directory,
///   fsynced and renamed over the key, so a reader (or a process killed mid-upload) never sees a partial
///   object. The content type and metadata go to a hidden sidecar `.NAME.meta.json`, written after the
///   content.
/// - **eTag** is the first 32 hex characters of the content's SHA-256, computed streaming. The sidecar
///   caches it with the file's identity (size, mtime, inode), so repeated heads and lists don't rehash;
///   a file changed behind the store's back (or a crash between the two renames of an upload) is
///   detected by the identity and rehashed. The sidecar's content type and metadata are only reported
///   for content whose hash is the one they were written with; other files get a content type guessed
///   from the extension and no metadata.
/// - `versionId` is always nil; `location` is the absolute file path.
///
/// File I/O runs on a Dispatch thread, not on the Swift concurrency pool (a long copy must not starve
/// the pool's few threads).
///
/// Processes coordinate through a per-bucket advisory lock file (`root/b/.refvision.lock`), held only
/// around the renames and sidecar reads, never while copying content.
public struct DirectoryObjectStore: ObjectStore {
    /// The absolute root directory.
    public let root: String

    public init(root: String) {
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
    }

    // MARK: - Keys

    static let maximumKeyBytes = 1024
    static let maximumSegmentBytes = 255
    static let sidecarSuffix = ".meta.json"
    static let lockName = ".refvision.lock"

    /// Checks a bucket name: a single, non-hidden path segment without control characters.
    static func validate(bucket: String) throws {
        guard !bucket.isEmpty else { throw FleetError.invalidKey("empty bucket name") }
        guard !bucket.contains("/") else { throw FleetError.invalidKey("bucket name '\(bucket)' contains '/'") }
        guard !bucket.hasPrefix(".") else { throw FleetError.invalidKey("bucket name '\(bucket)' starts with '.'") }
        guard !hasControlCharacters(bucket) else { throw FleetError.invalidKey("bucket name contains control characters") }
        guard bucket.utf8.count <= maximumSegmentBytes else { throw FleetError.invalidKey("bucket name is over 255 bytes") }
    }

    /// The key's path segments, or `FleetError.invalidKey` with the reason.
    static func segments(of key: String) throws -> [Substring] {
        guard !key.isEmpty else { throw FleetError.invalidKey("empty key") }
        guard key.utf8.count <= maximumKeyBytes else { throw FleetError.invalidKey("key is over \(maximumKeyBytes) bytes") }
        guard !key.hasPrefix("/") else { throw FleetError.invalidKey("absolute key '\(key)'") }
        guard !hasControlCharacters(key) else { throw FleetError.invalidKey("key contains control characters") }
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            guard !segment.isEmpty else { throw FleetError.invalidKey("empty segment in '\(key)'") }
            guard segment != ".", segment != ".." else { throw FleetError.invalidKey("'\(segment)' segment in '\(key)'") }
            guard !segment.hasPrefix(".") else {
                throw FleetError.invalidKey("segment '\(segment)' starts with '.' (hidden names are reserved)")
            }
            let limit = index == segments.count - 1 ? maximumSegmentBytes - sidecarSuffix.utf8.count - 1 : maximumSegmentBytes
            guard segment.utf8.count <= limit else {
                throw FleetError.invalidKey("segment of \(segment.utf8.count) bytes exceeds \(limit)")
            }
        }
        return segments
    }

    /// C0 controls, DEL and C1 controls (NUL included).
    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || ($0.value >= 0x7F && $0.value <= 0x9F) }
    }

    struct ObjectPath {
        var directory: String
        var name: String
        var path: String
        var sidecar: String { (directory as NSString).appendingPathComponent("." + name + DirectoryObjectStore.sidecarSuffix) }
    }

    func bucketPath(_ bucket: String) -> String { (root as NSString).appendingPathComponent(bucket) }

    func lockPath(_ bucket: String) -> String { (bucketPath(bucket) as NSString).appendingPathComponent(Self.lockName) }

    func objectPath(bucket: String, key: String) throws -> ObjectPath {
        try Self.validate(bucket: bucket)
        let segments = try Self.segments(of: key)
        var directory = bucketPath(bucket)
        for segment in segments.dropLast() { directory = (directory as NSString).appendingPathComponent(String(segment)) }
        let name = String(segments.last!)
        return ObjectPath(directory: directory, name: name, path: (directory as NSString).appendingPathComponent(name))
    }

    // MARK: - Sidecar

    /// The hidden file next to an object: what the uploader said about it, and the eTag cache.
    struct Sidecar: Codable, Equatable {
        var contentType: String?
        var metadata: [String: String]
        /// The content the eTag (and the rest) describes.
        var identity: FileIdentity
        var eTag: String
    }

    static func readSidecar(_ path: String) -> Sidecar? {
        guard let data = POSIX.readFile(path) else { return nil }
        return try? JSONDecoder().decode(Sidecar.self, from: data)
    }

    static func writeSidecar(_ sidecar: Sidecar, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try POSIX.writeAtomically(try encoder.encode(sidecar), to: path)
    }

    /// A content type for files nobody described (dropped into the folder by hand).
    static func guessContentType(_ name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "mp4", "m4v": "video/mp4"
        case "mov": "video/quicktime"
        case "mkv": "video/x-matroska"
        case "webm": "video/webm"
        case "avi": "video/x-msvideo"
        case "json": "application/json"
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        case "txt": "text/plain"
        default: "application/octet-stream"
        }
    }

    // MARK: - ObjectStore

    public func head(bucket: String, key: String) async throws -> StoredObject {
        try await Blocking.run { try object(bucket: bucket, key: key) }
    }

    /// `head`, synchronously.
    func object(bucket: String, key: String) throws -> StoredObject {
        try describe(bucket: bucket, key: key).0
    }

    /// `head`, with the identity of the file version described.
    func describe(bucket: String, key: String) throws -> (StoredObject, FileIdentity) {
        let location = try objectPath(bucket: bucket, key: key)
        guard let (_, kind) = POSIX.statPath(location.path), kind == .regular else {
            throw FleetError.objectNotFound(bucket: bucket, key: key)
        }
        // The file and its sidecar, seen together (an upload renames both under the exclusive lock).
        let (identity, sidecar) = try POSIX.withLock(lockPath(bucket), exclusive: false) { () -> (FileIdentity?, Sidecar?) in
            (POSIX.statPath(location.path)?.0, Self.readSidecar(location.sidecar))
        }
        guard let identity else { throw FleetError.objectNotFound(bucket: bucket, key: key) }
        if let sidecar, sidecar.identity == identity {
            return (stored(bucket, key, identity, sidecar.eTag, sidecar), identity)
        }
        // Not hashed yet, or changed behind the store's back: hash (outside any lock) and cache the result
        // if the file did not change meanwhile and nobody cached a newer description first.
        let fd: Int32
        do {
            fd = try POSIX.openFile(location.path, O_RDONLY)
        } catch {
            throw FleetError.objectNotFound(bucket: bucket, key: key)
        }
        defer { close(fd) }
        let before = try POSIX.fstatDescriptor(fd, path: location.path).0
        let eTag = try POSIX.hash(fd, path: location.path)
        let after = try POSIX.fstatDescriptor(fd, path: location.path).0
        let described = sidecar?.eTag == eTag ? sidecar : nil
        if before == after {
            let entry = Sidecar(contentType: described?.contentType ?? Self.guessContentType(location.name),
                                metadata: described?.metadata ?? [:], identity: after, eTag: eTag)
            try POSIX.withLock(lockPath(bucket), exclusive: true) {
                guard POSIX.statPath(location.path)?.0 == after, Self.readSidecar(location.sidecar)?.identity != after else { return }
                try Self.writeSidecar(entry, to: location.sidecar)
            }
        }
        return (stored(bucket, key, after, eTag, described), after)
    }

    private func stored(_ bucket: String, _ key: String, _ identity: FileIdentity, _ eTag: String,
                        _ sidecar: Sidecar?) -> StoredObject {
        let name = key.split(separator: "/").last.map(String.init) ?? key
        return StoredObject(bucket: bucket, key: key, size: identity.size, eTag: eTag, versionId: nil,
                            contentType: sidecar?.contentType ?? Self.guessContentType(name),
                            metadata: sidecar?.metadata ?? [:], lastModified: identity.modified)
    }

    /// Streams the object into `path` (a hidden temp file next to it, then a rename, so `path` is never
    /// partial). The returned eTag is the hash of exactly the bytes written, even if the object was
    /// replaced meanwhile.
    public func download(bucket: String, key: String, to path: String) async throws -> StoredObject {
        try await Blocking.run { try downloadNow(bucket: bucket, key: key, to: path) }
    }

    func downloadNow(bucket: String, key: String, to path: String) throws -> StoredObject {
        let location = try objectPath(bucket: bucket, key: key)
        guard let (_, kind) = POSIX.statPath(location.path), kind == .regular else {
            throw FleetError.objectNotFound(bucket: bucket, key: key)
        }
        // Open the source and read its sidecar together; from then on the descriptor pins this version.
        let (fd, sidecar): (Int32, Sidecar?) = try POSIX.withLock(lockPath(bucket), exclusive: false) {
            guard let (_, kind) = POSIX.statPath(location.path), kind == .regular,
                  let fd = try? POSIX.openFile(location.path, O_RDONLY) else {
                throw FleetError.objectNotFound(bucket: bucket, key: key)
            }
            return (fd, Self.readSidecar(location.sidecar))
        }
        defer { close(fd) }
        let identity = try POSIX.fstatDescriptor(fd, path: location.path).0
        let destination = URL(fileURLWithPath: path).standardizedFileURL.path
        let directory = (destination as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw EmbeddedError.fileSystem(path: directory, reason: error.localizedDescription)
        }
        let temp = POSIX.temporarySibling(of: destination, tag: "download")
        let (eTag, _) = try POSIX.copyNew(from: fd, sourcePath: location.path, to: temp)
        do {
            try POSIX.renameFile(temp, destination)
        } catch {
            POSIX.removeFile(temp)
            throw error
        }
        let described = (sidecar?.identity == identity || sidecar?.eTag == eTag) ? sidecar : nil
        return stored(bucket, key, identity, eTag, described)
    }

    /// Stores the file at `path` under `key` atomically (see the type's documentation). Metadata names
    /// are lower-cased, as S3 does.
    public func upload(file path: String, bucket: String, key: String, contentType: String,
                       metadata: [String: String]) async throws {
        try await Blocking.run { try uploadNow(file: path, bucket: bucket, key: key, contentType: contentType, metadata: metadata) }
    }

    func uploadNow(file path: String, bucket: String, key: String, contentType: String, metadata: [String: String]) throws {
        let location = try objectPath(bucket: bucket, key: key)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: location.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw FleetError.invalidKey("key '\(key)' is a prefix of other keys (a directory)")
        }
        do {
            try FileManager.default.createDirectory(atPath: location.directory, withIntermediateDirectories: true)
        } catch {
            throw FleetError.invalidKey("cannot create the directory of '\(key)' (is a prefix of it an object?)")
        }
        let source = try POSIX.openFile(path, O_RDONLY)
        defer { close(source) }
        let tempContent = POSIX.temporarySibling(of: location.path, tag: "upload")
        let (eTag, identity) = try POSIX.copyNew(from: source, sourcePath: path, to: tempContent)
        var lowered: [String: String] = [:]
        for (name, value) in metadata { lowered[name.lowercased()] = value }
        let sidecar = Sidecar(contentType: contentType, metadata: lowered, identity: identity, eTag: eTag)
        let tempSidecar = POSIX.temporarySibling(of: location.path, tag: "meta")
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try POSIX.writeAtomically(try encoder.encode(sidecar), to: tempSidecar)
            // Content first: a crash between the renames leaves the new content with the old sidecar,
            // whose identity and eTag no longer match, so its metadata is not reported for the new content.
            try POSIX.withLock(lockPath(bucket), exclusive: true) {
                try POSIX.renameFile(tempContent, location.path)
                try POSIX.renameFile(tempSidecar, location.sidecar)
            }
        } catch {
            POSIX.removeFile(tempContent)
            POSIX.removeFile(tempSidecar)
            throw error
        }
    }

    /// Every object whose key starts with `prefix` (byte-wise, as S3 compares), in key order (UTF-8 byte
    /// order). Hidden files and directories (temp files, sidecars) are skipped, and so are files whose
    /// names are not valid keys. A missing bucket directory lists as empty.
    public func list(bucket: String, prefix: String) async throws -> [StoredObject] {
        try await Blocking.run { try listNow(bucket: bucket, prefix: prefix) }
    }

    func listNow(bucket: String, prefix: String) throws -> [StoredObject] {
        try files(bucket: bucket, prefix: prefix).compactMap { file in
            do {
                return try object(bucket: bucket, key: file.key)
            } catch FleetError.objectNotFound {
                return nil  // removed since the walk
            }
        }
    }

    /// The file of an object, for serving it: the bucket and key are checked as on upload (no `..`,
    /// hidden or absolute names), and the file must be a regular file inside the root with no symbolic
    /// link on the way. Throws `FleetError.invalidKey` or `.objectNotFound`.
    public func filePath(bucket: String, key: String) throws -> String {
        try Self.validate(bucket: bucket)
        _ = try Self.segments(of: key)
        let path = location(bucket: bucket, key: key)
        let resolvedRoot = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard path.hasPrefix(root + "/"), resolved.hasPrefix(resolvedRoot + "/"),
              resolved.dropFirst(resolvedRoot.count) == path.dropFirst(root.count),
              case .regular? = POSIX.lstatPath(path)?.1 else {
            throw FleetError.objectNotFound(bucket: bucket, key: key)
        }
        return path
    }

    public func location(bucket: String, key: String) -> String {
        ((bucketPath(bucket) as NSString).appendingPathComponent(key) as NSString).standardizingPath
    }

    // MARK: - Walking

    /// A file found in a bucket directory, with its identity (no hashing).
    struct File {
        var key: String
        var identity: FileIdentity
    }

    /// The bucket's files under `prefix`, in key order, without hashing them.
    func files(bucket: String, prefix: String) throws -> [File] {
        try Self.validate(bucket: bucket)
        // Start the walk at the deepest directory the prefix names completely.
        var startKey = ""
        if let slash = prefix.lastIndex(of: "/") {
            startKey = String(prefix[...slash])
            let directories = startKey.dropLast()
            if directories.isEmpty { return [] }  // a key can't start with '/'
            do {
                _ = try Self.segments(of: String(directories))
            } catch {
                return []  // no valid key lives under an invalid directory
            }
        }
        var found: [File] = []
        walk(directory: (bucketPath(bucket) as NSString).appendingPathComponent(startKey), keyPrefix: startKey, into: &found)
        return found
            .filter { $0.key.utf8.starts(with: prefix.utf8) }
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    private func walk(directory: String, keyPrefix: String, into found: inout [File]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where !name.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(name)
            let key = keyPrefix + name
            guard let (_, kind) = POSIX.lstatPath(path) else { continue }
            switch kind {
            case .directory:
                walk(directory: path, keyPrefix: key + "/", into: &found)
            case .regular, .other:
                // Regular files, and symbolic links to regular files (never followed into directories).
                guard let (identity, target) = POSIX.statPath(path), target == .regular,
                      (try? Self.segments(of: key)) != nil else { continue }
                found.append(File(key: key, identity: identity))
            }
        }
    }
}
