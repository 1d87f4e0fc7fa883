import Foundation

/// Errors of the tile executors, the AMQP client and the workers. Broker errors name the broker URL
/// (password redacted); task errors name the tile, the task kind and the reason.
public enum ExecutorError: Error, CustomStringConvertible, Equatable {
    /// The broker URL does not parse (`amqp://user:pass@host:port/vhost`).
    case invalidBrokerURL(String, reason: String)
    /// No connection could be opened or the login was refused (at start).
    case brokerUnreachable(url: String, reason: String)
    /// The connection was lost or closed by the broker mid-run.
    case brokerLost(url: String, reason: String)
    /// A broker operation (declare, publish, consume, ack) failed.
    case broker(url: String, operation: String, reason: String)
    /// A task failed on every attempt and was dead-lettered, or failed locally.
    case taskFailed(tile: Int, kind: String, attempts: Int, reason: String)
    /// No task kind of this name is registered in this process.
    case unknownTaskKind(String)
    /// A result's artifact is missing from the store or does not match its checksum.
    case checksumMismatch(tile: Int, ref: String, reason: String)
    /// A message is not a valid task or result, or a task list is inconsistent.
    case badMessage(String)

    public var description: String {
        switch self {
        case .invalidBrokerURL(let u, let r):
            return "invalid broker URL '\(u)': \(r) (expected amqp://user:password@host:port/vhost)"
        case .brokerUnreachable(let u, let r):
            return "cannot connect to the RabbitMQ broker at \(u): \(r)"
        case .brokerLost(let u, let r):
            return "lost the RabbitMQ broker at \(u): \(r); finished tiles stay in the store and the next run reuses them"
        case .broker(let u, let op, let r):
            return "RabbitMQ broker at \(u): \(op) failed: \(r)"
        case .taskFailed(let t, let k, let n, let r):
            return "tile \(t) (\(k)) failed after \(n) attempt\(n == 1 ? "" : "s"): \(r)"
        case .unknownTaskKind(let k):
            return "unknown task kind '\(k)' (this tcbuild does not know it; are master and workers the same version?)"
        case .checksumMismatch(let t, let ref, let r):
            return "tile \(t): result \(ref) failed verification: \(r)"
        case .badMessage(let m):
            return m
        }
    }

    /// True for errors that happen before any work starts and mean the setup is wrong (CLI exit 2).
    public var isSetupError: Bool {
        switch self {
        case .invalidBrokerURL, .brokerUnreachable, .unknownTaskKind: return true
        default: return false
        }
    }
}
