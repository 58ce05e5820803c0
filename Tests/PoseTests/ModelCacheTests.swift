import Foundation
import Imaging
import Media
import Pose
import PoseData
import Testing
import TestSupport

@Suite("OpenVINO model cache")
struct ModelCacheTests {
    @Test("the cache directory comes from REFVISION_MODEL_CACHE, XDG_CACHE_HOME or HOME, and can be turned off")
    func defaultDirectory() {
        #expect(ModelCache.defaultDirectory(environment: ["REFVISION_MODEL_CACHE": "/c", "HOME": "/h"]) == "/c")
        #expect(ModelCache.defaultDirectory(environment: ["REFVISION_MODEL_CACHE": "off", "HOME": "/h"]) == nil)
        #expect(ModelCache.defaultDirectory(environment: ["REFVISION_MODEL_CACHE": "", "HOME": "/h"]) == nil)
        #expect(ModelCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/refvision/openvino")
        #expect(ModelCache.defaultDirectory(environment: ["HOME": "/h"]) == "/h/.cache/refvision/openvino")
        // Relative values are not trusted (they would depend on the working directory).
        #expect(ModelCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "x", "HOME": "h"]) == nil)
        #expect(ModelCache.defaultDirectory(environment: [:]) == nil)
    }

    private func landmarks(_ model: BlazePose, _ image: RGBImage) throws -> [Landmark] {
        let roi = try #require(try model.detect(image).first).roi
        return try model.landmarks(image, roi: roi).landmarks
    }

    private func blobs(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".blob") }.sorted()
    }

    @Test("compiled networks are written once and imported later with the same results; corrupt or empty blobs are compiled again",
          .enabled(if: TestPaths.hasModels && TestData.hasBus, "needs .deps from scripts/bootstrap"))
    func cacheRoundTrip() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let cache = tmp.path("nested/cache") // created on first use
        let image = try #require(try VideoReader(path: TestPaths.media("bus.jpg")).next()).image
        let uncached = try landmarks(BlazePose(modelsDirectory: TestPaths.models,
                                               options: BlazePose.Options(cacheDirectory: nil)), image)

        let first = try landmarks(BlazePose(modelsDirectory: TestPaths.models,
                                            options: BlazePose.Options(cacheDirectory: cache)), image)
        let written = blobs(cache)
        #expect(written.count == 2, "one blob per network, found \(written)")
        let attributes = try FileManager.default.attributesOfItem(atPath: cache)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        let imported = try landmarks(BlazePose(modelsDirectory: TestPaths.models,
                                               options: BlazePose.Options(cacheDirectory: cache)), image)
        #expect(blobs(cache) == written)
        #expect(first == uncached)
        #expect(imported == uncached)

        // Hostile cache contents: garbage after a valid-looking start, and an empty file.
        for (i, name) in written.enumerated() {
            let path = cache + "/" + name
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let bad = i == 0 ? data.prefix(200) + Data(repeating: 0xA5, count: 4096) : Data()
            try bad.write(to: URL(fileURLWithPath: path))
        }
        let recovered = try landmarks(BlazePose(modelsDirectory: TestPaths.models,
                                                options: BlazePose.Options(cacheDirectory: cache)), image)
        #expect(recovered == uncached)
        for name in blobs(cache) {
            let size = try FileManager.default.attributesOfItem(atPath: cache + "/" + name)[.size] as? Int ?? 0
            #expect(size > 1 << 20, "\(name) was written again whole (\(size) bytes)")
        }
    }

    @Test("a cache path that cannot be used (a file, not a directory) only costs the compile",
          .enabled(if: TestPaths.hasModels, "needs .deps from scripts/bootstrap"))
    func unusableCache() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let file = tmp.path("not-a-directory")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let model = try BlazePose(modelsDirectory: TestPaths.models, options: BlazePose.Options(cacheDirectory: file))
        #expect(model.landmarkModelPath.hasPrefix(TestPaths.models))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "x")
    }
}
