/// A value in a queue's argument table (`x-dead-letter-exchange`, `x-max-length`, ...).
public enum QueueArgument: Sendable, Equatable {
    /// A UTF-8 string.
    case string(String)
    /// A 64-bit integer.
    case int(Int)
}
