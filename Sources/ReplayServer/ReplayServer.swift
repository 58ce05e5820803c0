import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The replay service on Hummingbird: `GET /r/{token}`, `GET /v/{token}` (the video, with Range
/// support for local files), `GET /meets/{meet}`, `GET /healthz`. Every response, errors included,
/// carries the security headers.
public enum ReplayHTTPServer {
    /// The router, for in-process tests and for `application`.
    public static func router(service: ReplayService, https: Bool = false) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(SecurityHeadersMiddleware(headers: ReplayService.securityHeaders(https: https), logger: service.logger))
        let fileIO = FileIO()
        router.get("/healthz") { _, context in
            try await respond(await service.health(), request: nil, context: context, fileIO: fileIO)
        }
        router.head("/healthz") { _, context in
            try await respond(await service.health(), request: nil, context: context, fileIO: fileIO)
        }
        router.get("/r/:token") { _, context in
            let token = context.parameters.get("token") ?? ""
            return try await respond(await service.replayPage(token: token), request: nil, context: context, fileIO: fileIO)
        }
        router.get("/v/:token") { request, context in
            let token = context.parameters.get("token") ?? ""
            return try await respond(await service.video(token: token), request: request, context: context, fileIO: fileIO)
        }
        router.get("/meets/:meet") { request, context in
            let meet = context.parameters.get("meet") ?? ""
            var query: [String: String] = [:]
            for (name, value) in request.uri.queryParameters {
                query[String(name)] = String(value).removingPercentEncoding ?? String(value)
            }
            let response = await service.meetPage(meet: meet.removingPercentEncoding ?? meet, query: query,
                                                  authorization: request.headers[.authorization])
            return try await respond(response, request: request, context: context, fileIO: fileIO)
        }
        router.get("/") { _, context in
            try await respond(.html(200, Pages.error(title: "refvision replay service",
                                                     message: "Open the replay link from your e-mail.")),
                              request: nil, context: context, fileIO: fileIO)
        }
        return router
    }

    /// The application bound to `host:port` (port 0: any free port; `onRunning` learns which).
    public static func application(service: ReplayService, host: String, port: Int, https: Bool = false,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        var logger = service.logger
        logger.logLevel = max(logger.logLevel, .notice)
        return Application(
            router: router(service: service, https: https),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "refvision"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// Turns a framework-free `WebResponse` into a Hummingbird response.
    static func respond(_ response: WebResponse, request: Request?, context: BasicRequestContext, fileIO: FileIO) async throws -> Response {
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let status = HTTPResponse.Status(code: response.status)
        switch response.body {
        case .empty:
            return Response(status: status, headers: headers)
        case .text(let text):
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .html(let html):
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        case .file(let path, let contentType):
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            headers[.contentType] = contentType
            headers[.acceptRanges] = "bytes"
            switch ByteRange.parse(request?.headers[.range], size: size) {
            case .whole:
                headers[.contentLength] = String(size)
                guard size > 0 else { return Response(status: status, headers: headers) }
                return Response(status: status, headers: headers,
                                body: try await fileIO.loadFile(path: path, range: 0...(size - 1), context: context))
            case .partial(let range):
                headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
                headers[.contentLength] = String(range.count)
                return Response(status: .partialContent, headers: headers,
                                body: try await fileIO.loadFile(path: path, range: range, context: context))
            case .unsatisfiable:
                headers[.contentRange] = "bytes */\(size)"
                headers[.contentType] = "text/plain; charset=utf-8"
                return Response(status: .rangeNotSatisfiable, headers: headers,
                                body: ResponseBody(byteBuffer: ByteBuffer(string: "range not satisfiable\n")))
            }
        }
    }
}

/// One `Range: bytes=…` request header against a file of `size` bytes (RFC 9110 §14.1.2). A header
/// that does not parse, or asks for several ranges, is ignored (the whole file, as the RFC allows).
public enum ByteRange: Equatable, Sendable {
    case whole
    case partial(ClosedRange<Int>)
    case unsatisfiable

    public static func parse(_ header: String?, size: Int) -> ByteRange {
        guard let header, header.utf8.count <= 200 else { return .whole }
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = text.dropFirst("bytes=".count)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        func number(_ s: String) -> Int? {
            guard !s.isEmpty, s.count <= 18, s.allSatisfy(\.isASCII), s.allSatisfy(\.isNumber) else { return nil }
            return Int(s)
        }
        if first.isEmpty {
            // Suffix: the last N bytes.
            guard let count = number(last) else { return .whole }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - count)...(size - 1))
        }
        guard let start = number(first) else { return .whole }
        let end: Int
        if last.isEmpty {
            end = size - 1
        } else {
            guard let value = number(last), value >= start else { return .whole }
            end = min(value, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .partial(start...end)
    }
}

/// Adds the security headers to every response, and turns errors (unknown routes, anything thrown)
/// into plain pages that carry them too.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let headers: [(String, String)]
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            let title = error.status == .notFound ? "Not found" : "Request failed"
            let message = error.status == .notFound ? "There is nothing at this address." : "The request could not be handled."
            response = Response(status: error.status, headers: [.contentType: "text/html; charset=utf-8"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: Pages.error(title: title, message: message))))
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = Response(status: .internalServerError, headers: [.contentType: "text/html; charset=utf-8"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: Pages.error(
                                    title: "Something went wrong", message: "The server could not answer. Try again in a moment."))))
        }
        for (name, value) in headers {
            if let field = HTTPField.Name(name), response.headers[field] == nil { response.headers[field] = value }
        }
        return response
    }
}
