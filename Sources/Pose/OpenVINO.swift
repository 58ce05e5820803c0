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

/// A compiled network and one inference request on it. Inputs are written in place into the
/// request's own input tensor; outputs are read in place. Not thread-safe: one request, one thread.
final class CompiledNetwork: @unchecked Sendable {
    let path: String
    private var compiled: OpaquePointer?
    private var request: OpaquePointer?
    private var inputTensor: OpaquePointer?
    let input: UnsafeMutablePointer<Float>
    let inputShape: [Int]
    private(set) var outputs: [(shape: [Int], data: UnsafeMutablePointer<Float>)] = []
    private var outputTensors: [OpaquePointer] = []

    /// Compiles the model at `path`. With `cacheDirectory`, OpenVINO keeps the compiled network there
    /// (keyed by the model file's path and the compile settings, and checked against the file's size
    /// and time) and later runs import it instead of compiling again (≈0.8 s less per process on these machines). A cache that cannot be used (unwritable,
    /// corrupt blob) costs only the time: the network is then compiled without it.
    init(path: String, threads: Int, cacheDirectory: String? = nil) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw PoseError.modelNotFound(path: path) }
        let core = try OVCore.shared()
        // f32 forced: on CPUs with AVX512-BF16/AMX OpenVINO otherwise runs bf16, which moved
        // keypoints by 9 px on average and up to 33 px.
        var properties: [(String, String)] = [
            ("INFERENCE_PRECISION_HINT", "f32"), ("PERFORMANCE_HINT", "LATENCY"), ("NUM_STREAMS", "1"),
        ]
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
        compiled = compiledModel
        try check(ov_compiled_model_create_infer_request(compiled, &request), "create_infer_request")
        try check(ov_infer_request_get_input_tensor_by_index(request, 0, &inputTensor), "get_input_tensor")
        inputShape = try Self.shape(of: inputTensor!)
        var raw: UnsafeMutableRawPointer?
        try check(ov_tensor_data(inputTensor, &raw), "ov_tensor_data(input)")
        input = raw!.assumingMemoryBound(to: Float.self)
    }

    deinit {
        for t in outputTensors { ov_tensor_free(t) }
        if let inputTensor { ov_tensor_free(inputTensor) }
        if let request { ov_infer_request_free(request) }
        if let compiled { ov_compiled_model_free(compiled) }
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

    private static func shape(of tensor: OpaquePointer) throws -> [Int] {
        var shape = ov_shape_t()
        try check(ov_tensor_get_shape(tensor, &shape), "ov_tensor_get_shape")
        defer { ov_shape_free(&shape) }
        return (0..<Int(shape.rank)).map { Int(shape.dims[$0]) }
    }

    /// Runs the network on what was written to `input`.
    func infer() throws {
        try check(ov_infer_request_infer(request), "ov_infer_request_infer")
        if outputTensors.isEmpty { try bindOutputs() }
    }

    private func bindOutputs() throws {
        var count = 0
        try check(ov_compiled_model_outputs_size(compiled, &count), "outputs_size")
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
