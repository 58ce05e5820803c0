import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the local server saw it.
struct RecordedRequest: Sendable {
    var method: String
    var uri: String
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
    var bodyString: String { String(decoding: body, as: UTF8.self) }
    var path: String { String(uri.split(separator: "?", maxSplits: 1).first ?? "") }
}

/// What the local server does with a request.
indirect enum ServerAction: Sendable {
    case respond(status: Int, headers: [(String, String)], body: [UInt8])
    /// Close the connection without answering (a reset as the client sees it).
    case closeConnection
    /// Send the head with `declaredLength` and only `body`, then close.
    case truncated(status: Int, headers: [(String, String)], declaredLength: Int, body: [UInt8])
    /// Wait, then act.
    case delayed(TimeAmount, ServerAction)

    static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> ServerAction {
        .respond(status: status, headers: [("Content-Type", "application/x-amz-json-1.0")] + headers, body: Array(text.utf8))
    }

    static func xml(_ status: Int, _ text: String, headers: [(String, String)] = []) -> ServerAction {
        .respond(status: status, headers: [("Content-Type", "text/xml")] + headers, body: Array(text.utf8))
    }

    static func text(_ status: Int, _ text: String, contentType: String = "text/plain") -> ServerAction {
        .respond(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }
}

/// A real HTTP/1.1 server on 127.0.0.1 (port 0) built on SwiftNIO, scripted per request. Used where moto
/// has no equivalent: retries, credential endpoints, the ECS agent, broken responses.
final class LocalHTTPServer: Sendable {
    typealias Handler = @Sendable (RecordedRequest, Int) -> ServerAction

    private let channel: any Channel
    private let log: RequestLog
    let port: Int

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [RecordedRequest] { log.all }
    var requestCount: Int { log.all.count }

    private init(channel: any Channel, log: RequestLog, port: Int) {
        self.channel = channel
        self.log = log
        self.port = port
    }

    /// Starts a server; `handler` gets each request and its 0-based sequence number.
    static func start(_ handler: @escaping Handler) async throws -> LocalHTTPServer {
        let log = RequestLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(handler: handler, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = channel.localAddress?.port else { throw ServerError.noPort }
        return LocalHTTPServer(channel: channel, log: log, port: port)
    }

    /// Runs `body` with a server and always stops it.
    @discardableResult
    static func with<Result: Sendable>(
        _ handler: @escaping Handler, _ body: (LocalHTTPServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start(handler)
        do {
            let result = try await body(server)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    func stop() async throws {
        try await channel.close()
    }

    enum ServerError: Error { case noPort }
}

final class RequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [RecordedRequest] = []

    func append(_ request: RecordedRequest) -> Int {
        lock.lock()
        defer { lock.unlock() }
        requests.append(request)
        return requests.count - 1
    }

    var all: [RecordedRequest] {
        lock.lock()
        defer { lock.unlock() }
        return requests
    }
}

private final class ScriptedHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handler: LocalHTTPServer.Handler
    let log: RequestLog
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(handler: @escaping LocalHTTPServer.Handler, log: RequestLog) {
        self.handler = handler
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let request = RecordedRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
            let index = log.append(request)
            perform(handler(request, index), context: context, keepAlive: head.isKeepAlive)
        }
    }

    func perform(_ action: ServerAction, context: ChannelHandlerContext, keepAlive: Bool) {
        switch action {
        case .delayed(let delay, let next):
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: delay) {
                let (handler, context) = loopBound.value
                handler.perform(next, context: context, keepAlive: keepAlive)
            }
        case .closeConnection:
            context.close(promise: nil)
        case .respond(let status, let headers, let body):
            var responseHead = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
            for (name, value) in headers { responseHead.headers.add(name: name, value: value) }
            responseHead.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
            if !keepAlive { responseHead.headers.replaceOrAdd(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            if !body.isEmpty && self.head?.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if !keepAlive { context.close(promise: nil) }
        case .truncated(let status, let headers, let declaredLength, let body):
            var responseHead = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
            for (name, value) in headers { responseHead.headers.add(name: name, value: value) }
            responseHead.headers.replaceOrAdd(name: "Content-Length", value: String(declaredLength))
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            context.close(promise: nil)
        }
    }
}
