import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Small POSIX helpers for the directory object store: stat identities, streaming copy with hashing,
// atomic writes (temp file + fsync + rename) and advisory locks (flock, released when a process dies).

/// What identifies one version of a file's content: size, modification time (ns) and inode (a rename of a
/// freshly written temp file brings a new inode, so an upload is never mistaken for the file it replaced).
struct FileIdentity: Codable, Equatable, Sendable {
    var size: Int64
    var mtimeNs: Int64
    var inode: UInt64

    var modified: Date { Date(timeIntervalSince1970: Double(mtimeNs) / 1_000_000_000) }
}

enum FileKind { case regular, directory, other }

enum POSIX {
    static func error(_ path: String, _ what: String, _ code: Int32 = errno) -> EmbeddedError {
        EmbeddedError.fileSystem(path: path, reason: "\(what): \(String(cString: strerror(code)))")
    }

    private static func identity(_ st: stat) -> (FileIdentity, FileKind) {
        #if canImport(Darwin)
        let ts = st.st_mtimespec
        #else
        let ts = st.st_mtim
        #endif
        let mode = st.st_mode & S_IFMT
        let kind: FileKind = mode == S_IFREG ? .regular : mode == S_IFDIR ? .directory : .other
        return (FileIdentity(size: Int64(st.st_size), mtimeNs: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec),
                             inode: UInt64(st.st_ino)), kind)
    }

    /// `stat` (follows symbolic links); nil when the path does not exist or can't be read.
    static func statPath(_ path: String) -> (FileIdentity, FileKind)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return identity(st)
    }

    /// `lstat` (does not follow symbolic links).
    static func lstatPath(_ path: String) -> (FileIdentity, FileKind)? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return identity(st)
    }

    static func fstatDescriptor(_ fd: Int32, path: String) throws -> (FileIdentity, FileKind) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw error(path, "fstat") }
        return identity(st)
    }

    static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw error(path, "open") }
        }
    }

    static func renameFile(_ from: String, _ to: String) throws {
        guard rename(from, to) == 0 else {
            let code = errno
            throw error(to, "rename from \(from)", code)
        }
    }

    static func removeFile(_ path: String) { _ = unlink(path) }

    static let chunkSize = 1 << 20

    /// Reads `fd` to its end in 1 MiB chunks, handing each chunk to `body`.
    static func readChunks(_ fd: Int32, path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw error(path, "read")
            }
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw error(path, "write")
            }
            offset += n
        }
    }

    /// The store's eTag: the first 32 hex characters of the SHA-256 of the content.
    static func eTag(_ digest: SHA256.Digest) -> String {
        digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Hashes the rest of `fd` without loading it into memory.
    static func hash(_ fd: Int32, path: String) throws -> String {
        var hasher = SHA256()
        try readChunks(fd, path: path) { hasher.update(bufferPointer: $0) }
        return eTag(hasher.finalize())
    }

    /// Copies the rest of `source` into a new file at `destination` (which must not exist), hashing on the
    /// way, and fsyncs it. Returns the eTag and the new file's identity. Removes the file on failure.
    static func copyNew(from source: Int32, sourcePath: String, to destination: String) throws -> (String, FileIdentity) {
        let out = try openFile(destination, O_WRONLY | O_CREAT | O_EXCL)
        do {
            defer { close(out) }
            var hasher = SHA256()
            try readChunks(source, path: sourcePath) { chunk in
                hasher.update(bufferPointer: chunk)
                try writeAll(out, chunk, path: destination)
            }
            guard fsync(out) == 0 else { throw error(destination, "fsync") }
            return (eTag(hasher.finalize()), try fstatDescriptor(out, path: destination).0)
        } catch {
            removeFile(destination)
            throw error
        }
    }

    /// Writes `data` to `path` atomically: a hidden temp file in the same directory, fsync, rename.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let temp = temporarySibling(of: path, tag: "write")
        let fd = try openFile(temp, O_WRONLY | O_CREAT | O_EXCL)
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { try writeAll(fd, $0, path: temp) }
            guard fsync(fd) == 0 else { throw error(temp, "fsync") }
        } catch {
            removeFile(temp)
            throw error
        }
        do {
            try renameFile(temp, path)
        } catch {
            removeFile(temp)
            throw error
        }
    }

    /// A hidden, unique temp-file path in the directory of `path` (hidden files are never listed).
    static func temporarySibling(of path: String, tag: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return (directory as NSString).appendingPathComponent(".tmp-\(tag)-\(UUID().uuidString.lowercased())")
    }

    /// Runs `body` holding an advisory `flock` on `lockPath` (created if missing). The lock is released
    /// by the kernel if the process dies, so a killed process never leaves it held.
    static func withLock<T>(_ lockPath: String, exclusive: Bool, _ body: () throws -> T) throws -> T {
        let fd = try openFile(lockPath, O_RDWR | O_CREAT)
        defer { close(fd) }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno != EINTR { throw error(lockPath, "flock") }
        }
        return try body()
    }

    static func readFile(_ path: String) -> Data? {
        FileManager.default.contents(atPath: path)
    }
}

/// Runs blocking file-system work on a Dispatch thread and awaits it, keeping the cooperative pool free.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
