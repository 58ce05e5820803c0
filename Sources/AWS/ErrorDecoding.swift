import Foundation
import NIOHTTP1

/// Turns an error response into an `AWSError`, whatever its shape: S3 XML (`<Error>`), query-protocol XML
/// (`<ErrorResponse><Error>`), EC2-style (`<Response><Errors><Error>`), JSON (`__type`/`code` +
/// `message`/`Message`, or the `x-amzn-ErrorType` header), or something else entirely (an HTML page from a
/// proxy, an empty body from HEAD). The body's first byte decides, not the content type: moto answers XML
/// errors from JSON services and labels some responses `text/html`.
enum AWSErrorDecoder {
    static func decode(
        service: String, operation: String, status: Int, headers: HTTPHeaders, body: [UInt8]
    ) -> AWSError {
        let headerRequestId =
            headers.first(name: "x-amzn-RequestId") ?? headers.first(name: "x-amz-request-id")
            ?? headers.first(name: "x-amzn-requestid")
        let queryErrorCode = headers.first(name: "x-amzn-query-error").flatMap { value -> AWSErrorCode? in
            let code = value.split(separator: ";").first.map(String.init) ?? ""
            return code.isEmpty ? nil : AWSErrorCode(code)
        }
        let headerErrorType = headers.first(name: "x-amzn-ErrorType").map(shortCode)

        let firstByte = body.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        if firstByte == UInt8(ascii: "{"), let json = try? JSONSerialization.jsonObject(with: Data(body)),
            let object = json as? [String: Any]
        {
            let rawType = (object["__type"] as? String) ?? (object["code"] as? String) ?? (object["Code"] as? String)
            let code = rawType.map(shortCode) ?? headerErrorType ?? fallbackCode(status)
            let message =
                (object["message"] as? String) ?? (object["Message"] as? String)
                ?? (object["errorMessage"] as? String) ?? ""
            return AWSError(
                service: service, operation: operation, code: AWSErrorCode(code), message: message,
                requestId: headerRequestId, statusCode: status, queryErrorCode: queryErrorCode)
        }
        if firstByte == UInt8(ascii: "<"), let root = try? AWSXML.parse(body) {
            var errorNode: AWSXMLNode?
            var requestId = root.string("RequestId") ?? root.string("RequestID")
            switch root.name {
            case "Error":
                errorNode = root
            case "ErrorResponse":
                errorNode = root.child("Error") ?? root.path("Errors", "Error")
            case "Response":
                errorNode = root.path("Errors", "Error")
                requestId = requestId ?? root.string("RequestID")
            default:
                errorNode = nil
            }
            if let errorNode, let code = errorNode.string("Code"), !code.isEmpty {
                return AWSError(
                    service: service, operation: operation, code: AWSErrorCode(code),
                    message: errorNode.string("Message") ?? "",
                    requestId: requestId ?? errorNode.string("RequestId") ?? headerRequestId, statusCode: status,
                    queryErrorCode: queryErrorCode)
            }
        }
        // No recognisable shape: HTML page, empty body (HEAD), plain text, garbage.
        let code = headerErrorType ?? fallbackCode(status)
        return AWSError(
            service: service, operation: operation, code: AWSErrorCode(code),
            message: HTTPResponseStatus(statusCode: status).reasonPhrase, requestId: headerRequestId,
            statusCode: status, queryErrorCode: queryErrorCode, rawBodyPrefix: bodyPrefix(body))
    }

    /// `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` → `ConditionalCheckFailedException`;
    /// `ValidationException:http://internal.amazon.com/...` → `ValidationException`.
    static func shortCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return code.trimmingCharacters(in: .whitespaces)
    }

    /// For bodies without a code (HEAD responses have none), S3-style names from the status.
    static func fallbackCode(_ status: Int) -> String {
        switch status {
        case 301: return "PermanentRedirect"
        case 304: return "NotModified"
        case 400: return "BadRequest"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        case 412: return "PreconditionFailed"
        case 416: return "InvalidRange"
        case 429: return "TooManyRequestsException"
        case 500: return "InternalError"
        case 502: return "BadGateway"
        case 503: return "ServiceUnavailable"
        case 504: return "GatewayTimeout"
        default: return AWSErrorCode.unknown.rawValue
        }
    }

    /// A short, printable prefix of an unparseable body (tags stripped, whitespace folded).
    static func bodyPrefix(_ body: [UInt8]) -> String? {
        if body.isEmpty { return nil }
        let text = String(decoding: body.prefix(2_048), as: UTF8.self)
        var stripped = ""
        var inTag = false
        for character in text {
            if character == "<" {
                inTag = true
                stripped.append(" ")
            } else if character == ">" {
                inTag = false
            } else if !inTag {
                stripped.append(character.isWhitespace || character.isNewline ? " " : character)
            }
        }
        let folded = stripped.split(whereSeparator: { $0 == " " }).joined(separator: " ")
        return folded.isEmpty ? nil : String(folded.prefix(200))
    }
}

extension HTTPResponseStatus {
    var isSuccess: Bool { (200..<300).contains(Int(code)) }
}
