import CRabbitMQ
import Foundation

extension AMQPConnection {
    /// Builds a field table for queue arguments; the C strings live for the duration of `body`.
    static func withTable<R>(_ arguments: [String: QueueArgument], _ body: (amqp_table_t) throws -> R) rethrows -> R {
        if arguments.isEmpty { return try body(amqp_empty_table) }
        var owned: [UnsafeMutablePointer<CChar>] = []
        defer { owned.forEach { free($0) } }
        var entries: [amqp_table_entry_t] = arguments.sorted { $0.key < $1.key }.map { key, value in
            let k = strdup(key)!
            owned.append(k)
            var entry = amqp_table_entry_t()
            entry.key = amqp_cstring_bytes(k)
            switch value {
            case .string(let s):
                let v = strdup(s)!
                owned.append(v)
                entry.value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                entry.value.value.bytes = amqp_cstring_bytes(v)
            case .int(let n):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                entry.value.value.i64 = Int64(n)
            }
            return entry
        }
        return try entries.withUnsafeMutableBufferPointer { buf in
            try body(amqp_table_t(num_entries: Int32(buf.count), entries: buf.baseAddress))
        }
    }
}
