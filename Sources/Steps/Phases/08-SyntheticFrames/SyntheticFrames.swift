import Foundation

/// METHOD phase 8: one synthetic frame per cluster, reconstructed with phase 6's kernel from that
/// cluster's frames only.
public enum SyntheticFrames {
    /// How many `synthetic/NN` nodes a config asks for: one per possible cluster, NN in
    /// 0 ..< `synthetic.frames_max` (at least one). The one clamp every node that depends on it uses.
    public static func count(_ config: TCConfig) -> Int { max(1, config.synthetic.framesMax) }
}
