import Foundation

/// A TCP proxy on 127.0.0.1 to a local port that can be frozen: it then stops forwarding in both
/// directions but keeps every socket open, which is what a broker behind a dead network link looks
/// like (no FIN, no RST; only heartbeats can tell).
final class FreezableProxy: @unchecked Sendable {
    /// The port clients connect to.
    let port: Int
    private let upstreamPort: Int
    private let listenFD: Int32
    private let lock = NSLock()
    private var frozen = false
    private var closed = false
    private var sockets: [Int32] = []

    init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listenFD = fd
        var addr = Self.loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard fd >= 0, ok else { throw POSIXError(.EADDRNOTAVAIL) }
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Stops forwarding (sockets stay open).
    func freeze() { lock.withLock { frozen = true } }

    /// Closes every socket; the forwarding threads end.
    func close() {
        let fds = lock.withLock { () -> [Int32]? in
            if closed { return nil }
            closed = true
            defer { sockets.removeAll() }
            return sockets
        }
        guard let fds else { return }
        shutdown(listenFD, Int32(SHUT_RDWR))
        Foundation.close(listenFD)
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)); Foundation.close(fd) }
    }

    deinit { close() }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = port.bigEndian
        return a
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = Self.loopback(port: UInt16(upstreamPort))
            let connected = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            let keep = lock.withLock { () -> Bool in
                if closed { return false }
                sockets += [client, upstream]
                return true
            }
            guard keep, connected else { Foundation.close(client); Foundation.close(upstream); continue }
            Thread.detachNewThread { [self] in pump(from: client, to: upstream) }
            Thread.detachNewThread { [self] in pump(from: upstream, to: client) }
        }
    }

    private func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            while lock.withLock({ frozen && !closed }) { usleep(50_000) }
            if lock.withLock({ closed }) { return }
            var off = 0
            while off < n {
                let w = buffer.withUnsafeBytes { write(to, $0.baseAddress! + off, n - off) }
                if w <= 0 { return }
                off += w
            }
        }
    }
}
