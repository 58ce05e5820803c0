import COpenVINO
import Foundation

/// Why pose estimation could not run.
public enum PoseError: Error, Equatable, Sendable, CustomStringConvertible {
    case modelNotFound(path: String)
    case modelChecksumMismatch(path: String)
    case openVINO(call: String, status: Int, message: String)
    case unexpectedModel(path: String, reason: String)
    case invalidImage(String)

    public var description: String {
        switch self {
        case .modelNotFound(let p): "model file not found: \(p) (run scripts/bootstrap, or set REFVISION_MODELS_DIR)"
        case .modelChecksumMismatch(let p): "model file \(p) does not have the pinned sha256"
        case .openVINO(let call, let status, let message): "OpenVINO \(call) failed (status \(status)): \(message)"
        case .unexpectedModel(let p, let r): "\(p): not the expected BlazePose model: \(r)"
        case .invalidImage(let m): "invalid image: \(m)"
        }
    }
}

@inline(__always)
func check(_ status: ov_status_e, _ call: String) throws {
    guard status == OK else {
        let info = ov_get_error_info(status).map { String(cString: $0) } ?? ""
        let last = ov_get_last_err_msg().map { String(cString: $0) } ?? ""
        throw PoseError.openVINO(call: call, status: Int(status.rawValue),
                                 message: [info, last].filter { !$0.isEmpty }.joined(separator: ": "))
    }
}

/// The process-wide OpenVINO core (creating one loads plugins; do it once).
final class OVCore: @unchecked Sendable {
    let pointer: OpaquePointer

    private init() throws {
        var core: OpaquePointer?
        try check(ov_core_create(&core), "ov_core_create")
        pointer = core!
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var instance: OVCore?

    static func shared() throws -> OVCore {
        lock.lock()
        defer { lock.unlock() }
        if let instance { return instance }
        let core = try OVCore()
        instance = core
        return core
    }
}

/// An `ov_compiled_model_t`, freed when the network and all its requests are gone.
final class CompiledModelHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { ov_compiled_model_free(pointer) }
}

/// One inference request of a compiled network. Inputs are written in place into the request's own
/// input tensor; outputs are read in place. Not thread-safe: one request, one thread at a time.
final class InferRequest: @unchecked Sendable {
    let path: String
    private let request: OpaquePointer
    private let inputTensor: OpaquePointer
    private let compiled: CompiledModelHandle
    let input: UnsafeMutablePointer<Float>
    let inputShape: [Int]
    private(set) var outputs: [(shape: [Int], data: UnsafeMutablePointer<Float>)] = []
    private var outputTensors: [OpaquePointer] = []
    /// Started with `start()` and not yet waited for.
    private var running = false

    init(compiled: CompiledModelHandle, path: String) throws {
        self.path = path
        self.compiled = compiled
        var request: OpaquePointer?
        try check(ov_compiled_model_create_infer_request(compiled.pointer, &request), "create_infer_request")
        var tensor: OpaquePointer?
        var raw: UnsafeMutableRawPointer?
        let shape: [Int]
        do {
            try check(ov_infer_request_get_input_tensor_by_index(request, 0, &tensor), "get_input_tensor")
            shape = try Self.shape(of: tensor!)
            try check(ov_tensor_data(tensor, &raw), "ov_tensor_data(input)")
        } catch {
            if let tensor { ov_tensor_free(tensor) }
            ov_infer_request_free(request)
            throw error
        }
        self.request = request!
        inputTensor = tensor!
        inputShape = shape
        input = raw!.assumingMemoryBound(to: Float.self)
    }

    deinit {
        if running { _ = ov_infer_request_wait(request) }
        for t in outputTensors { ov_tensor_free(t) }
        ov_tensor_free(inputTensor)
        ov_infer_request_free(request)
    }

    static func shape(of tensor: OpaquePointer) throws -> [Int] {
        var shape = ov_shape_t()
        try check(ov_tensor_get_shape(tensor, &shape), "ov_tensor_get_shape")
        defer { ov_shape_free(&shape) }
        return (0..<Int(shape.rank)).map { Int(shape.dims[$0]) }
    }

    /// Runs the network on what was written to `input`, on this thread.
    func infer() throws {
        try check(ov_infer_request_infer(request), "ov_infer_request_infer")
        if outputTensors.isEmpty { try bindOutputs() }
    }

    /// Starts the network on what was written to `input` and returns at once; `wait()` ends it.
    /// `input` must not be written in between.
    func start() throws {
        try check(ov_infer_request_start_async(request), "ov_infer_request_start_async")
        running = true
    }

    /// Waits for the run `start()` began (its error, if it failed); outputs are then readable.
    func wait() throws {
        guard running else { return }
        running = false
        try check(ov_infer_request_wait(request), "ov_infer_request_wait")
        if outputTensors.isEmpty { try bindOutputs() }
    }

    private func bindOutputs() throws {
        var count = 0
        try check(ov_compiled_model_outputs_size(compiled.pointer, &count), "outputs_size")
        for i in 0..<count {
            var t: OpaquePointer?
            try check(ov_infer_request_get_output_tensor_by_index(request, i, &t), "get_output_tensor")
            outputTensors.append(t!)
            var raw: UnsafeMutableRawPointer?
            try check(ov_tensor_data(t, &raw), "ov_tensor_data(output)")
            outputs.append((try Self.shape(of: t!), raw!.assumingMemoryBound(to: Float.self)))
        }
    }

    /// The output whose element count is `count` (BlazePose's outputs differ in size).
    func output(elements count: Int) throws -> UnsafeMutablePointer<Float> {
        guard let o = outputs.first(where: { $0.shape.reduce(1, *) == count }) else {
            throw PoseError.unexpectedModel(path: path, reason: "no output with \(count) values (has \(outputs.map(\.shape)))")
        }
        return o.data
    }
}

/// A compiled network and its inference requests: `requests[0]` for calls on the caller's thread,
/// and with `streams` > 1 one more per stream, run side by side (`InferRequest.start`).
final class CompiledNetwork: @unchecked Sendable {
    let path: String
    /// Each request keeps the compiled model alive.
    let requests: [InferRequest]
    var inputShape: [Int] { requests[0].inputShape }
    /// `requests[0]`'s input, run and outputs (the request for calls on the caller's thread).
    var input: UnsafeMutablePointer<Float> { requests[0].input }
    func infer() throws { try requests[0].infer() }
    func output(elements count: Int) throws -> UnsafeMutablePointer<Float> { try requests[0].output(elements: count) }

    /// Compiles the model at `path`. With one stream it runs on `threads` threads (latency: one
    /// request at a time); with `streams` > 1, OpenVINO splits the `threads` between that many
    /// streams, each running one request at a time on its share (≈1.3× the frames per second of
    /// one 2-thread stream on two cores, `benchmark_app` on the landmark model). With `cacheDirectory`, OpenVINO keeps the compiled network there
    /// (keyed by the model file's path and the compile settings, and checked against the file's size
    /// and time) and later runs import it instead of compiling again (≈0.8 s less per process on these machines). A cache that cannot be used (unwritable,
    /// corrupt blob) costs only the time: the network is then compiled without it.
    init(path: String, threads: Int, streams: Int = 1, cacheDirectory: String? = nil) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw PoseError.modelNotFound(path: path) }
        let core = try OVCore.shared()
        // f32 forced: on CPUs with AVX512-BF16/AMX OpenVINO otherwise runs bf16, which moved
        // keypoints by 9 px on average and up to 33 px.
        var properties: [(String, String)] = [("INFERENCE_PRECISION_HINT", "f32")]
        properties += streams > 1
            ? [("PERFORMANCE_HINT", "THROUGHPUT"), ("NUM_STREAMS", String(streams))]
            : [("PERFORMANCE_HINT", "LATENCY"), ("NUM_STREAMS", "1")]
        if threads > 0 { properties.append(("INFERENCE_NUM_THREADS", String(threads))) }
        for extra in (ProcessInfo.processInfo.environment["REFVISION_OV_PROPS"] ?? "").split(separator: ",") {
            let kv = extra.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { properties.append((kv[0], kv[1])) }
        }
        var compiledModel: OpaquePointer?
        if let cache = cacheDirectory.flatMap(ModelCache.usable) {
            // From the file: a cache hit then skips reading the model (OpenVINO checks the file's
            // size and time against the blob's header).
            compiledModel = try? Self.compile(properties + [("CACHE_DIR", cache)], "ov_core_compile_model_from_file") {
                refv_ov_compile_file(core.pointer, path, "CPU", $0, $1, $2)
            }
        }
        if compiledModel == nil {
            var model: OpaquePointer?
            try check(ov_core_read_model(core.pointer, path, nil, &model), "ov_core_read_model(\(path))")
            defer { ov_model_free(model) }
            compiledModel = try Self.compile(properties, "ov_core_compile_model") {
                refv_ov_compile(core.pointer, model, "CPU", $0, $1, $2)
            }
        }
        let handle = CompiledModelHandle(compiledModel!)
        requests = try (0..<(streams > 1 ? streams + 1 : 1)).map { _ in try InferRequest(compiled: handle, path: path) }
    }

    /// Calls `call(pairs, count, &compiled)` with `properties` as C key/value strings.
    private static func compile(
        _ properties: [(String, String)], _ name: String,
        _ call: (UnsafePointer<UnsafePointer<CChar>?>?, Int, UnsafeMutablePointer<OpaquePointer?>) -> ov_status_e
    ) throws -> OpaquePointer? {
        let flat: [String] = properties.flatMap { [$0.0, $0.1] }
        let cStrings = flat.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var compiled: OpaquePointer?
        let status = cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { buf in
            call(buf.baseAddress, properties.count, &compiled)
        }
        try check(status, name)
        return compiled
    }
}
