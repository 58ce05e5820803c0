import Foundation

/// A parse error in `~/.aws/credentials` or `~/.aws/config`.
public struct SharedConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let line: Int
    public let reason: String
    public var description: String { "\(path):\(line): \(reason)" }
}

/// The shared AWS files: `credentials` (sections are profile names) and `config` (sections are
/// `[default]` or `[profile name]`; other sections such as `[sso-session x]`/`[services x]` are kept apart).
public struct SharedConfigFile: Sendable, Equatable {
    /// Profile name → key → value. Keys are lower-cased; values trimmed, inline comments removed.
    public var profiles: [String: [String: String]]

    public init(profiles: [String: [String: String]] = [:]) { self.profiles = profiles }

    /// Largest file we read; real ones are a few KiB.
    public static let maximumSize = 1 << 20

    /// Reads and parses a file; a missing file is an empty configuration.
    public static func load(path: String, isConfigFile: Bool) throws -> SharedConfigFile {
        guard FileManager.default.fileExists(atPath: path) else { return SharedConfigFile() }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AWSClientError.fileIO(path: path, reason: "\(error)")
        }
        if data.count > maximumSize {
            throw SharedConfigError(path: path, line: 0, reason: "file larger than \(maximumSize) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SharedConfigError(path: path, line: 0, reason: "not UTF-8")
        }
        return try parse(text, path: path, isConfigFile: isConfigFile)
    }

    /// INI parsing with the AWS rules: `#`/`;` comment lines, inline comments only after whitespace,
    /// indented lines continue a key (nested sub-properties such as `s3 =\n  addressing_style = path`
    /// are stored as `s3.addressing_style`).
    public static func parse(_ text: String, path: String = "<memory>", isConfigFile: Bool) throws -> SharedConfigFile {
        var profiles: [String: [String: String]] = [:]
        var current: String?
        var lastKey: String?
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            if lineNumber == 1, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }

            if trimmed.hasPrefix("[") {
                guard let close = trimmed.firstIndex(of: "]") else {
                    throw SharedConfigError(path: path, line: lineNumber, reason: "section header without ']'")
                }
                let after = trimmed[trimmed.index(after: close)...].trimmingCharacters(in: .whitespaces)
                if !after.isEmpty && !after.hasPrefix("#") && !after.hasPrefix(";") {
                    throw SharedConfigError(path: path, line: lineNumber, reason: "text after section header")
                }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
                    .trimmingCharacters(in: .whitespaces)
                if name.isEmpty {
                    throw SharedConfigError(path: path, line: lineNumber, reason: "empty section name")
                }
                current = profileName(section: name, isConfigFile: isConfigFile)
                if let current, profiles[current] == nil { profiles[current] = [:] }
                lastKey = nil
                continue
            }

            let isIndented = line.first == " " || line.first == "\t"
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw SharedConfigError(path: path, line: lineNumber, reason: "expected 'key = value'")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = stripInlineComment(String(trimmed[trimmed.index(after: equals)...]))
            if key.isEmpty {
                throw SharedConfigError(path: path, line: lineNumber, reason: "empty key")
            }
            guard let profile = current else {
                throw SharedConfigError(path: path, line: lineNumber, reason: "key outside any section")
            }
            if isIndented, let parent = lastKey, profiles[profile]?[parent] == "" {
                profiles[profile]?["\(parent).\(key)"] = value
                continue
            }
            profiles[profile]?[key] = value
            lastKey = key
        }
        return SharedConfigFile(profiles: profiles)
    }

    /// `[profile x]` → `x`; `[default]` → `default`; in the config file other typed sections
    /// (`[sso-session x]`, `[services x]`) are namespaced so they never shadow a profile.
    static func profileName(section: String, isConfigFile: Bool) -> String? {
        guard isConfigFile else { return section }
        if section == "default" { return "default" }
        let parts = section.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        if parts.count == 2 {
            let kind = parts[0]
            let name = parts[1].trimmingCharacters(in: .whitespaces)
            if kind == "profile" { return name }
            return "\(kind):\(name)"
        }
        // A bare `[name]` in the config file is not a profile (botocore ignores it too).
        return "section:\(section)"
    }

    static func stripInlineComment(_ value: String) -> String {
        var result = ""
        var previousWasSpace = false
        for character in value {
            if (character == "#" || character == ";") && previousWasSpace { break }
            previousWasSpace = character == " " || character == "\t"
            result.append(character)
        }
        return result.trimmingCharacters(in: .whitespaces)
    }
}

/// The credentials and config files of one profile, resolved from the environment the SDK way.
public struct SharedConfig: Sendable {
    public let profile: String
    public let credentialsPath: String
    public let configPath: String
    public let credentials: SharedConfigFile
    public let config: SharedConfigFile

    public static func paths(environment: [String: String]) -> (credentials: String, config: String, profile: String) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let credentials = expandTilde(environment["AWS_SHARED_CREDENTIALS_FILE"], home: home) ?? "\(home)/.aws/credentials"
        let config = expandTilde(environment["AWS_CONFIG_FILE"], home: home) ?? "\(home)/.aws/config"
        let profile = nonEmpty(environment["AWS_PROFILE"]) ?? nonEmpty(environment["AWS_DEFAULT_PROFILE"]) ?? "default"
        return (credentials, config, profile)
    }

    public static func load(environment: [String: String]) throws -> SharedConfig {
        let (credentialsPath, configPath, profile) = paths(environment: environment)
        return SharedConfig(
            profile: profile, credentialsPath: credentialsPath, configPath: configPath,
            credentials: try SharedConfigFile.load(path: credentialsPath, isConfigFile: false),
            config: try SharedConfigFile.load(path: configPath, isConfigFile: true))
    }

    /// A setting of the active profile: the credentials file wins for keys, then the config file.
    public func value(_ key: String) -> String? {
        nonEmpty(credentials.profiles[profile]?[key]) ?? nonEmpty(config.profiles[profile]?[key])
    }

    /// Whether the active profile exists in either file.
    public var profileExists: Bool {
        credentials.profiles[profile] != nil || config.profiles[profile] != nil
    }

    static func expandTilde(_ path: String?, home: String) -> String? {
        guard let path = nonEmpty(path) else { return nil }
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst(1) }
        return path
    }
}

func nonEmpty(_ value: String?) -> String? {
    guard let value else { return nil }
    let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
    return trimmed.isEmpty ? nil : trimmed
}
