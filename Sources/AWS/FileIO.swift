import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always) private func posixClose(_ fd: CInt) -> CInt { close(fd) }
@inline(__always) private func posixWrite(_ fd: CInt, _ pointer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, pointer, count) }

/// A file opened for positional reads (`pread`) on NIO's blocking-I/O thread pool, so parallel multipart
/// parts can share it and the event loops never block.
final class FileReader: @unchecked Sendable {
    let path: String
    let size: Int64
    private let descriptor: CInt
    private let lock = NSLock()
    private var closed = false

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AWSClientError.fileIO(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = posixClose(fd)
            throw AWSClientError.fileIO(path: path, reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            _ = posixClose(fd)
            throw AWSClientError.fileIO(path: path, reason: "not a regular file")
        }
        self.descriptor = fd
        self.size = Int64(info.st_size)
    }

    /// Reads exactly `count` bytes at `offset` (fewer only if the file shrank, which is an error).
    func read(offset: Int64, count: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) async throws -> ByteBuffer {
        let fd = descriptor
        let path = self.path
        return try await NIOThreadPool.singleton.runIfActive {
            var buffer = allocator.buffer(capacity: count)
            var done = 0
            while done < count {
                let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { pointer in
                    pread(fd, pointer.baseAddress, count - done, off_t(offset) + off_t(done))
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AWSClientError.fileIO(path: path, reason: String(cString: strerror(errno)))
                }
                if n == 0 { throw AWSClientError.fileIO(path: path, reason: "file shrank while being read") }
                done += n
            }
            return buffer
        }
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        if !closed {
            closed = true
            _ = posixClose(descriptor)
        }
    }

    deinit { close() }
}

/// An async sequence of chunks of a file range, for streamed request bodies.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let reader: FileReader
    let offset: Int64
    let length: Int64
    let chunkSize: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let reader: FileReader
        var position: Int64
        let end: Int64
        let chunkSize: Int

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let count = Int(Swift.min(Int64(chunkSize), end - position))
            let chunk = try await reader.read(offset: position, count: count)
            position += Int64(count)
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(reader: reader, position: offset, end: offset + length, chunkSize: chunkSize)
    }
}

/// A file being written sequentially on the blocking-I/O thread pool (downloads).
final class FileWriter: @unchecked Sendable {
    let path: String
    private let descriptor: CInt
    private let lock = NSLock()
    private var closed = false

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AWSClientError.fileIO(path: path, reason: String(cString: strerror(errno))) }
        self.descriptor = fd
    }

    func write(_ buffer: ByteBuffer) async throws {
        let fd = descriptor
        let path = self.path
        try await NIOThreadPool.singleton.runIfActive {
            try buffer.withUnsafeReadableBytes { pointer in
                guard let base = pointer.baseAddress else { return }
                var done = 0
                while done < pointer.count {
                    let n = posixWrite(fd, base + done, pointer.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw AWSClientError.fileIO(path: path, reason: String(cString: strerror(errno)))
                    }
                    done += n
                }
            }
        }
    }

    /// Flushes to disk and closes.
    func finish() async throws {
        let fd = descriptor
        let path = self.path
        try await NIOThreadPool.singleton.runIfActive {
            if fsync(fd) != 0 { throw AWSClientError.fileIO(path: path, reason: String(cString: strerror(errno))) }
        }
        close()
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        if !closed {
            closed = true
            _ = posixClose(descriptor)
        }
    }

    deinit { close() }
}
