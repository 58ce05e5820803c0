@testable import Embedded
import Fleet
import PortConformance
import Foundation
import Testing

@Suite struct DirectoryObjectStoreTests {
    static func run(_ test: (ObjectStoreConformance) async throws -> Void, _ label: String = #function) async throws {
        let directory = try TemporaryDirectory(label)
        defer { directory.remove() }
        let scratch = directory.sub("scratch")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let store = DirectoryObjectStore(root: directory.sub("objects"))
        try await test(ObjectStoreConformance(make: { (store, "raw") }, scratch: scratch))
    }

    @Test func roundTripAwkwardKeys() async throws { try await Self.run { try await $0.roundTripAwkwardKeys() } }
    @Test func missingObject() async throws { try await Self.run { try await $0.missingObject() } }
    @Test func listPrefixInKeyOrder() async throws { try await Self.run { try await $0.listPrefixInKeyOrder() } }
    @Test func eTagFollowsContent() async throws { try await Self.run { try await $0.eTagFollowsContent() } }

    // MARK: - Embedded behaviour

    static let hostileKeys = [
        "", "/etc/passwd", "../escape.mp4", "a/../../escape.mp4", "a/./b.mp4", ".", "..", "a//b.mp4", "a/b/",
        "nul\u{0}byte.mp4", "new\nline.mp4", "tab\there.mp4", "del\u{7F}.mp4", ".hidden.mp4", "a/.meta.json",
        String(repeating: "x", count: 256), String(repeating: "d", count: 256) + "/file.mp4",
        String(repeating: "y", count: 250),  // the last segment leaves room for its sidecar's name
        String(repeating: "k/", count: 600) + "k",  // over 1024 bytes
    ]

    @Test(arguments: hostileKeys)
    func hostileKeysAreRejected(key: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = DirectoryObjectStore(root: directory.sub("objects"))
        let source = directory.sub("source")
        try Data("x".utf8).write(to: URL(fileURLWithPath: source))
        await #expect(throws: FleetError.self) {
            try await store.upload(file: source, bucket: "raw", key: key, contentType: "video/mp4", metadata: [:])
        }
        await #expect(throws: FleetError.self) { _ = try await store.head(bucket: "raw", key: key) }
        await #expect(throws: FleetError.self) { _ = try await store.download(bucket: "raw", key: key, to: directory.sub("out")) }
        // Nothing was written anywhere but the (empty) root.
        let written = FileManager.default.enumerator(atPath: directory.path)?.allObjects as? [String] ?? []
        #expect(written == ["source"])
    }

    @Test(arguments: ["", "a/b", ".hidden", "..", "bad\u{1}bucket"])
    func hostileBucketsAreRejected(bucket: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = DirectoryObjectStore(root: directory.sub("objects"))
        await #expect(throws: FleetError.self) { _ = try await store.head(bucket: bucket, key: "k.mp4") }
        await #expect(throws: FleetError.self) { _ = try await store.list(bucket: bucket, prefix: "") }
    }

    @Test func longestLegalKeySegmentsWork() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = DirectoryObjectStore(root: directory.sub("objects"))
        let source = directory.sub("source")
        try Data("x".utf8).write(to: URL(fileURLWithPath: source))
        let key = String(repeating: "d", count: 255) + "/" + String(repeating: "f", count: 244)
        try await store.upload(file: source, bucket: "raw", key: key, contentType: "video/mp4", metadata: ["a": "b"])
        #expect(try await store.head(bucket: "raw", key: key).metadata == ["a": "b"])
    }

    @Test func layoutLocationAndMissingBucket() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = directory.sub("objects")
        let store = DirectoryObjectStore(root: root)
        #expect(try await store.list(bucket: "raw", prefix: "").isEmpty)
        #expect(try await store.list(bucket: "raw", prefix: "../").isEmpty)
        let source = directory.sub("source")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: source))
        try await store.upload(file: source, bucket: "raw", key: "meet/a b.mp4", contentType: "video/mp4", metadata: [:])
        let path = store.location(bucket: "raw", key: "meet/a b.mp4")
        #expect(path == root + "/raw/meet/a b.mp4")
        #expect(FileManager.default.contents(atPath: path) == Data("hello".utf8))
        // Only the object and hidden files (sidecar) in its directory; no temp files left.
        let names = try FileManager.default.contentsOfDirectory(atPath: root + "/raw/meet").sorted()
        #expect(names == [".a b.mp4.meta.json", "a b.mp4"])
        let head = try await store.head(bucket: "raw", key: "meet/a b.mp4")
        #expect(head.versionId == nil)
        #expect(head.eTag?.count == 32)
        #expect(head.eTag == "2cf24dba5fb0a30e26e83b2ac5b9e29e")  // SHA-256("hello"), first 32 hex digits
    }

    @Test func filesDroppedInByHandAreObjects() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = directory.sub("objects")
        let store = DirectoryObjectStore(root: root)
        try FileManager.default.createDirectory(atPath: root + "/raw/meet", withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: root + "/raw/meet/clip.MOV"))
        try Data("junk".utf8).write(to: URL(fileURLWithPath: root + "/raw/meet/.DS_Store"))
        try FileManager.default.createDirectory(atPath: root + "/raw/.partial", withIntermediateDirectories: true)
        try Data("junk".utf8).write(to: URL(fileURLWithPath: root + "/raw/.partial/x.mp4"))
        let listed = try await store.list(bucket: "raw", prefix: "")
        #expect(listed.map(\.key) == ["meet/clip.MOV"])
        #expect(listed.first?.contentType == "video/quicktime")
        #expect(listed.first?.metadata == [:])
        #expect(listed.first?.eTag == "2cf24dba5fb0a30e26e83b2ac5b9e29e")
        // The hash is cached; changing the file behind the store's back is noticed.
        try Data("hello, changed".utf8).write(to: URL(fileURLWithPath: root + "/raw/meet/clip.MOV"))
        let changed = try await store.head(bucket: "raw", key: "meet/clip.MOV")
        #expect(changed.eTag != listed.first?.eTag)
        #expect(changed.size == 14)
    }

    @Test func eTagIsCachedBySizeAndMtime() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = directory.sub("objects")
        let store = DirectoryObjectStore(root: root)
        let source = directory.sub("source")
        try Data("original".utf8).write(to: URL(fileURLWithPath: source))
        try await store.upload(file: source, bucket: "raw", key: "k.mp4", contentType: "video/mp4", metadata: ["m": "1"])
        let sidecarPath = root + "/raw/.k.mp4.meta.json"
        // Tamper with the cached eTag: a head that trusts the cache reports the tampered value.
        var sidecar = try JSONDecoder().decode(DirectoryObjectStore.Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: sidecarPath)))
        sidecar.eTag = "cached"
        try JSONEncoder().encode(sidecar).write(to: URL(fileURLWithPath: sidecarPath))
        #expect(try await store.head(bucket: "raw", key: "k.mp4").eTag == "cached")
        // Touching the file (same content, new mtime) invalidates the cache: rehashed, and since the hash
        // differs from the sidecar's, its metadata no longer applies.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -100)], ofItemAtPath: root + "/raw/k.mp4")
        let rehashed = try await store.head(bucket: "raw", key: "k.mp4")
        #expect(rehashed.eTag != "cached" && rehashed.eTag?.count == 32)
    }

    @Test func touchedUploadKeepsItsMetadata() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = directory.sub("objects")
        let store = DirectoryObjectStore(root: root)
        let source = directory.sub("source")
        try Data("original".utf8).write(to: URL(fileURLWithPath: source))
        try await store.upload(file: source, bucket: "raw", key: "k.mp4", contentType: "video/x-custom", metadata: ["m": "1"])
        let before = try await store.head(bucket: "raw", key: "k.mp4")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -100)], ofItemAtPath: root + "/raw/k.mp4")
        let after = try await store.head(bucket: "raw", key: "k.mp4")
        #expect(after.eTag == before.eTag)
        #expect(after.contentType == "video/x-custom" && after.metadata == ["m": "1"])
        #expect(after.lastModified != before.lastModified)
    }

    @Test func keyCannotBeBothObjectAndFolder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = DirectoryObjectStore(root: directory.sub("objects"))
        let source = directory.sub("source")
        try Data("x".utf8).write(to: URL(fileURLWithPath: source))
        try await store.upload(file: source, bucket: "raw", key: "a/b", contentType: "text/plain", metadata: [:])
        await #expect(throws: FleetError.self) {
            try await store.upload(file: source, bucket: "raw", key: "a/b/c", contentType: "text/plain", metadata: [:])
        }
        await #expect(throws: FleetError.self) {
            try await store.upload(file: source, bucket: "raw", key: "a", contentType: "text/plain", metadata: [:])
        }
        await #expect(throws: FleetError.objectNotFound(bucket: "raw", key: "a")) { _ = try await store.head(bucket: "raw", key: "a") }
    }

    /// While a large upload replaces an object, readers only ever see the old or the new content whole.
    @Test func uploadIsAtomic() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = directory.sub("objects")
        let store = DirectoryObjectStore(root: root)
        let small = directory.sub("small"), large = directory.sub("large")
        try Data(repeating: 1, count: 1000).write(to: URL(fileURLWithPath: small))
        let largeSize = 48 << 20
        try Data(repeating: 2, count: largeSize).write(to: URL(fileURLWithPath: large))
        try await store.upload(file: small, bucket: "raw", key: "clip.mp4", contentType: "video/mp4", metadata: [:])
        let path = store.location(bucket: "raw", key: "clip.mp4")
        let uploader = Task { try await store.upload(file: large, bucket: "raw", key: "clip.mp4", contentType: "video/mp4", metadata: [:]) }
        var sizes: Set<Int64> = []
        while true {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            sizes.insert((attributes[.size] as? NSNumber)?.int64Value ?? -1)
            let listed = try await store.list(bucket: "raw", prefix: "")
            #expect(listed.map(\.key) == ["clip.mp4"])
            sizes.formUnion(listed.map(\.size))
            if sizes.contains(Int64(largeSize)) { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        try await uploader.value
        #expect(sizes.isSubset(of: [1000, Int64(largeSize)]))
        let downloaded = try await store.download(bucket: "raw", key: "clip.mp4", to: directory.sub("out/clip.mp4"))
        #expect(downloaded.size == Int64(largeSize))
        let hidden = try FileManager.default.contentsOfDirectory(atPath: root + "/raw").filter { $0.hasPrefix(".tmp") }
        #expect(hidden.isEmpty)
    }
}
