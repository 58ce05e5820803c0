import ArgumentParser
import Fleet
import Foundation
import Hummingbird
import Logging
import Notifier
import ReplayServer
import ServiceLifecycle
import ServiceSupport

/// `refvision notifier`: results → e-mails.
struct NotifierCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifier",
        abstract: "Run the notifier: one e-mail per decision (SNS coaches topic, or the embedded outbox).",
        discussion: """
            For each result it claims the decision (judged → notified) with a conditional write, then publishes, \
            so one job never sends two e-mails (docs/notifications.md). Runs until SIGTERM or SIGINT; logs are JSON lines.
            """)

    @OptionGroup var fleet: FleetOptions

    func run() async throws {
        do {
            _ = try ServiceLogging.bootstrap(level: fleet.logLevel)
            let logger = Logger(label: "refvision.notifier")
            let ports = try await FleetPorts.open(fleet, logger: logger)
            try await ports.require(queues: [ports.results], deadLetters: [ports.resultsDLQ])
            let notifier = try makeNotifier(ports, logger: logger)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: notifier)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            await ports.shutdown()
        } catch {
            failAndExit(error)
        }
    }
}

/// `refvision resend JOB`: mail a decision again by hand.
struct ResendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resend",
        abstract: "Mail a decision again: one whose delivery is `unknown` (see `refvision status`), or any with --force.",
        discussion: """
            The notifier never repeats a publish whose outcome it could not know (a second e-mail is worse than \
            none, docs/notifications.md); this is the ops decision to send it anyway.
            """)

    @OptionGroup var fleet: FleetOptions
    @Argument(help: "The job id (refvision status --json shows it).") var jobId: String
    @Flag(help: "Send even if the decision was mailed already.") var force = false

    func run() async throws {
        do {
            let ports = try await FleetPorts.open(fleet, logger: quietLogger())
            try await ports.require()
            let notifier = try makeNotifier(ports, logger: quietLogger())
            do {
                let receipt = try await notifier.resend(jobId: jobId, force: force)
                print("mailed \(jobId) to \(receipt.audience)" + (receipt.recipients.isEmpty ? "" : ": " + receipt.recipients.joined(separator: ", ")))
            } catch let error as FleetError {
                throw CLIError(description: "\(error)", code: Exit.badInput)
            }
            await ports.shutdown()
        } catch {
            failAndExit(error)
        }
    }
}

/// `refvision replay`: the replay web service.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Serve replay pages (GET /r/TOKEN), the meet dashboard (GET /meets/MEET) and /healthz.",
        discussion: """
            Signed links are verified with REFVISION_LINK_KEYS; the dashboard asks for REFVISION_DASHBOARD_AUTH \
            (embedded: both are generated once in DATA/secrets/). Runs until SIGTERM or SIGINT.
            """)

    @OptionGroup var fleet: FleetOptions

    @Option(help: "Address to listen on, HOST:PORT (default: 0.0.0.0:REFVISION_HTTP_PORT on AWS, 127.0.0.1:8080 embedded).")
    var http: HTTPAddress?

    func run() async throws {
        do {
            _ = try ServiceLogging.bootstrap(level: fleet.logLevel)
            let logger = Logger(label: "refvision.replay")
            let ports = try await FleetPorts.open(fleet, logger: logger)
            try await ports.require()
            let port = Int(try environmentNumber("REFVISION_HTTP_PORT", default: 8080, in: 0...65535, environment: ports.environment))
            let address = http ?? HTTPAddress(host: ports.isEmbedded ? "127.0.0.1" : "0.0.0.0", port: port)
            let service = try makeReplayService(ports, logger: logger)
            let https = (ports.environment["REFVISION_REPLAY_BASE_URL"] ?? "").lowercased().hasPrefix("https://")
            let app = ReplayHTTPServer.application(service: service, host: address.host, port: address.port, https: https) { bound in
                logger.notice("replay service listening", metadata: ["address": "\(address.host):\(bound)"])
                if ports.isEmbedded {
                    FileHandle.standardOutput.write(Data("replay service on http://\(address.host):\(bound)\n".utf8))
                }
            }
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            await ports.shutdown()
        } catch {
            failAndExit(error)
        }
    }
}

/// `refvision coaches add|list|remove`.
struct CoachesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coaches",
        abstract: "Who gets e-mailed about which lifters.",
        discussion: """
            On AWS each address is an e-mail subscription of the coaches topic with a filter policy (SNS asks the \
            address to confirm first); embedded, the list lives in DATA/state.sqlite and decides which outbox mails \
            are written. A decision no coach's entry matches goes to the staff (--staff entries, or REFVISION_STAFF_EMAIL \
            embedded), so no decision goes unannounced.
            """,
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Subscribe an address to a team's decisions (or all unmatched ones with --staff).")
        @OptionGroup var fleet: FleetOptions
        @Argument(help: "E-mail address.") var email: String
        @Option(help: "Team whose lifters the coach hears about (upload metadata `team`).") var team: String?
        @Option(help: "Only this athlete of the team.") var athlete: String?
        @Flag(help: "Meet staff: every decision that no coach's entry matches.") var staff = false

        func validate() throws {
            guard staff != (team != nil) else { throw ValidationError("give --team TEAM (optionally --athlete) or --staff") }
            if staff && athlete != nil { throw ValidationError("--athlete goes with --team, not --staff") }
        }

        func run() async throws {
            do {
                let ports = try await FleetPorts.open(fleet, logger: quietLogger())
                let entry: CoachSubscription
                do {
                    entry = staff ? try .staffMember(email: email) : try .coach(email: email, team: team ?? "", athlete: athlete)
                } catch {
                    throw CLIError(description: "\(error)", code: Exit.badInput)
                }
                let added = try await ports.coachDirectory().add(entry)
                print("added \(CoachesCommand.describe(added))" + (added.pending ? " (SNS has asked the address to confirm)" : ""))
                await ports.shutdown()
            } catch {
                failAndExit(error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the subscriptions.")
        @OptionGroup var fleet: FleetOptions
        @Flag(help: "JSON for machines.") var json = false

        func run() async throws {
            do {
                let ports = try await FleetPorts.open(fleet, logger: quietLogger())
                let all = try await ports.coachDirectory().list()
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(all), as: UTF8.self))
                } else if all.isEmpty {
                    print("no coaches: every decision goes to the staff address")
                } else {
                    for entry in all { print(CoachesCommand.describe(entry)) }
                }
                await ports.shutdown()
            } catch {
                failAndExit(error)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an address (only its entry for --team, when given).")
        @OptionGroup var fleet: FleetOptions
        @Argument(help: "E-mail address.") var email: String
        @Option(help: "Only the entry for this team.") var team: String?

        func run() async throws {
            do {
                let ports = try await FleetPorts.open(fleet, logger: quietLogger())
                let removed = try await ports.coachDirectory().remove(email: email, team: team)
                await ports.shutdown()
                guard removed > 0 else {
                    throw CLIError(description: "no subscription for \(email)\(team.map { " and team \($0)" } ?? "")", code: Exit.badInput)
                }
                print("removed \(removed) entr\(removed == 1 ? "y" : "ies") for \(email)")
            } catch {
                failAndExit(error)
            }
        }
    }

    static func describe(_ entry: CoachSubscription) -> String {
        if entry.staff { return "\(entry.email)  staff (decisions no coach's entry matches)" }
        if entry.pending && entry.team == nil { return "\(entry.email)  [pending confirmation: SNS shows its filter once the address confirms]" }
        guard let team = entry.team else { return "\(entry.email)  (not a refvision filter; left alone)" }
        return "\(entry.email)  team \(team)" + (entry.athlete.map { ", athlete \($0)" } ?? ", every athlete") + (entry.pending ? "  [pending confirmation]" : "")
    }
}

