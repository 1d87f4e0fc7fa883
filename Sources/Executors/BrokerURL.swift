import Foundation

/// A parsed `amqp://user:password@host:port/vhost` broker URL. Defaults: user and password
/// `guest`, port 5672, vhost `/` (an empty path; `%2F` is `/` percent-encoded, as in RabbitMQ's
/// URI spec). `description` redacts the password, so errors and logs can name the URL.
public struct BrokerURL: Sendable, Equatable, CustomStringConvertible {
    /// Host name or address.
    public let host: String
    /// TCP port.
    public let port: Int
    /// User name.
    public let user: String
    /// Password.
    public let password: String
    /// Virtual host.
    public let vhost: String

    /// Parses a URL; throws `ExecutorError.invalidBrokerURL` explaining what is wrong.
    public init(_ string: String) throws {
        guard let c = URLComponents(string: string) else { throw ExecutorError.invalidBrokerURL(string, reason: "not a URL") }
        guard c.scheme == "amqp" else {
            throw ExecutorError.invalidBrokerURL(string, reason: c.scheme == "amqps" ? "TLS (amqps) is not supported" : "the scheme must be amqp")
        }
        guard let h = c.host, !h.isEmpty else { throw ExecutorError.invalidBrokerURL(string, reason: "no host") }
        host = h
        port = c.port ?? 5672
        guard (1...65535).contains(port) else { throw ExecutorError.invalidBrokerURL(string, reason: "port \(port) out of range") }
        user = c.user ?? "guest"
        password = c.password ?? "guest"
        let path = c.percentEncodedPath
        if path.isEmpty || path == "/" {
            vhost = "/"
        } else {
            let raw = String(path.dropFirst())
            guard !raw.contains("/"), let decoded = raw.removingPercentEncoding else {
                throw ExecutorError.invalidBrokerURL(string, reason: "the path must be one vhost name (percent-encode '/' as %2F)")
            }
            vhost = decoded
        }
    }

    /// `amqp://user:***@host:port/vhost`.
    public var description: String {
        let v = vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? vhost
        return "amqp://\(user):***@\(host):\(port)/\(v)"
    }
}
