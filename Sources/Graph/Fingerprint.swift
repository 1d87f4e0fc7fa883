/// The identity of a node execution.
///
/// `fingerprint = XXH3-128(tag, kind, version, canonical params, [(input name, input content digest)] sorted by name)`.
/// Upstream fingerprints, paths, times and run ids never enter it: an upstream that reruns and
/// produces identical bytes leaves every downstream fingerprint unchanged (early cutoff).
public enum Fingerprint {
    /// Bumped only if the fingerprint's own layout changes (invalidates every cache entry).
    public static let layoutVersion = 1

    /// Computes a fingerprint. `inputs` must be sorted by name (as `Node.inputs` are).
    public static func compute(kind: String, version: Int, params: ParamSet,
                               inputs: [(name: String, digest: Digest)]) -> Digest {
        var h = ContentHasher()
        h.field("tcbuild.fingerprint")
        h.field(layoutVersion)
        h.field(kind)
        h.field(version)
        h.field(params.canonical)
        h.field(inputs.count)
        for input in inputs {
            h.field(input.name)
            h.field(input.digest)
        }
        return h.finalize()
    }
}
