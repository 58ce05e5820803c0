import Logging
import ServiceLifecycle

/// The main loop of a queue-polling service: beat the heartbeat, poll, and on a failure log it and
/// try again after `retryDelay`, until graceful shutdown or cancellation. A long poll in flight is
/// cancelled by `poll` itself (wrapped in `cancelWhenGracefulShutdown`), so shutdown is prompt.
public func pollUntilShutdown(what: String, heartbeat: Heartbeat?, logger: Logger, retryDelay: Duration = .seconds(5),
                              _ poll: () async throws -> Void) async {
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
        heartbeat?.beat()
        do {
            try await poll()
        } catch is CancellationError {
            break
        } catch {
            if Task.isShuttingDownGracefully { break }
            logger.error("\(what) poll failed; retrying in \(retryDelay)", metadata: ["error": "\(error)"])
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: retryDelay) }
        }
    }
}
