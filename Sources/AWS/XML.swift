import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element: enough of a DOM for AWS responses (no mixed content, namespaces ignored).
public struct AWSXMLNode: Sendable, Equatable {
    public var name: String
    public var attributes: [String: String]
    public var children: [AWSXMLNode]
    /// Concatenated character data directly inside this element (not trimmed).
    public var text: String

    public init(name: String, attributes: [String: String] = [:], children: [AWSXMLNode] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child with this (local) name.
    public func child(_ name: String) -> AWSXMLNode? { children.first { $0.name == name } }
    /// All children with this (local) name.
    public func children(_ name: String) -> [AWSXMLNode] { children.filter { $0.name == name } }
    /// The text of the first child with this name.
    public func string(_ name: String) -> String? { child(name)?.text }
    /// Follows a path of child names.
    public func path(_ names: String...) -> AWSXMLNode? {
        var node: AWSXMLNode? = self
        for name in names { node = node?.child(name) }
        return node
    }
}

public struct AWSXMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { "XML: \(reason)" }
}

public enum AWSXML {
    /// Deepest nesting accepted; AWS responses are shallow.
    public static let maximumDepth = 64

    /// Parses a document. Rejects DTDs outright (no AWS response has one, and entity expansion is the
    /// classic way to make a parser explode), empty input, non-UTF-8, and anything XMLParser rejects.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> AWSXMLNode {
        let data = Data(bytes)
        if data.isEmpty { throw AWSXMLError(reason: "empty document") }
        guard String(data: data, encoding: .utf8) != nil else { throw AWSXMLError(reason: "not UTF-8") }
        if data.range(of: Data("<!DOCTYPE".utf8)) != nil || data.range(of: Data("<!ENTITY".utf8)) != nil
            || data.range(of: Data("<!doctype".utf8)) != nil
        {
            throw AWSXMLError(reason: "DTDs and entity declarations are not accepted")
        }
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = false
        parser.shouldReportNamespacePrefixes = false
        parser.shouldResolveExternalEntities = false
        let builder = TreeBuilder()
        parser.delegate = builder
        let ok = parser.parse()
        if let failure = builder.failure { throw AWSXMLError(reason: failure) }
        guard ok, let root = builder.root else {
            let detail = parser.parserError.map { "\($0.localizedDescription)" } ?? "unknown parser error"
            throw AWSXMLError(reason: "not well-formed (line \(parser.lineNumber)): \(detail)")
        }
        return root
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var stack: [AWSXMLNode] = []
        var root: AWSXMLNode?
        var failure: String?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if stack.count >= AWSXML.maximumDepth {
                failure = "nesting deeper than \(AWSXML.maximumDepth)"
                parser.abortParsing()
                return
            }
            if root != nil {
                failure = "content after the root element"
                parser.abortParsing()
                return
            }
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            stack.append(AWSXMLNode(name: local, attributes: attributes))
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
        ) {
            guard let node = stack.popLast() else { return }
            if stack.isEmpty {
                root = node
            } else {
                stack[stack.count - 1].children.append(node)
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
            if failure == nil { failure = "not well-formed (line \(parser.lineNumber)): \(parseError.localizedDescription)" }
        }
    }
}

/// Builds small XML request bodies (S3 CompleteMultipartUpload, notification configuration, ...).
public struct XMLWriter: Sendable {
    private(set) public var output = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

    public init() {}

    public mutating func element(_ name: String, xmlns: String? = nil, _ body: (inout XMLWriter) -> Void) {
        if let xmlns {
            output += "<\(name) xmlns=\"\(Self.escape(xmlns))\">"
        } else {
            output += "<\(name)>"
        }
        body(&self)
        output += "</\(name)>"
    }

    public mutating func element(_ name: String, _ text: String) {
        output += "<\(name)>\(Self.escape(text))</\(name)>"
    }

    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
