import Foundation

/// Every node name of the pipeline, in one place (no other file of `Sources/` spells one).
///
/// Per-frame nodes are `phase/NNNNN` with the frame's index in the sorted frame list; synthetic
/// frames are `synthetic/NN` (two digits, as `syn_NN.fits`). Node names take no part in fingerprints,
/// but they key the manifest's history (explain, the run cache's "why"), so renaming one makes
/// explain lose its earlier runs: keep them stable.
public enum NodeName {
    /// `phase/00017`: the five-digit per-frame form (also used for per-frame input names).
    public static func frame(_ phase: String, _ index: Int) -> String {
        "\(phase)/\(String(format: "%05d", index))"
    }

    // MARK: scan stage

    /// `inspect/NNNNN`: one input frame's header and linearity sample.
    public static func inspect(_ index: Int) -> String { frame("inspect", index) }
    /// `scan`: the validated frame list.
    public static let scan = "scan"

    // MARK: phase 1

    /// `stars/NNNNN`: star detection on one input frame.
    public static func stars(_ index: Int) -> String { frame("stars", index) }
    /// `stars/ref`: star detection on a reference frame given as a path.
    public static let starsReference = "stars/ref"
    /// `reference`: the chosen reference frame and its stars.
    public static let reference = "reference"
    /// `siril/register`: one siril-cli registration over the whole series (siril engine).
    public static let sirilRegister = "siril/register"
    /// `register/NNNNN`: one frame registered into the reference geometry.
    public static func register(_ index: Int) -> String { frame("register", index) }

    // MARK: phases 2-5

    /// `measure/NNNNN`: normalization and global measurements of one registered frame.
    public static func measure(_ index: Int) -> String { frame("measure", index) }
    /// `metrics`: the global frame metrics across the series.
    public static let metrics = "metrics"
    /// `tiles/geometry`: the seeing-adaptive tile grid.
    public static let tileGeometry = "tiles/geometry"
    /// `local/NNNNN`: per-tile metrics of one frame.
    public static func local(_ index: Int) -> String { frame("local", index) }
    /// `tiles/metrics`: local weights L and effective weights W of every frame and tile.
    public static let tileMetrics = "tiles/metrics"

    // MARK: phases 6-10

    /// `reject`: per-pixel outlier rejection masks over every frame.
    public static let reject = "reject"
    /// `reconstruct`: the tile reconstruction over every frame.
    public static let reconstruct = "reconstruct"
    /// `clusters`: the frames' state clustering.
    public static let clusters = "clusters"
    /// `synthetic/NN`: the synthetic frame of cluster NN.
    public static func synthetic(_ cluster: Int) -> String { "synthetic/" + String(format: "%02d", cluster) }
    /// `stack/classical`: the classical mean of every registered frame (validation's yardstick).
    public static let classicalStack = "stack/classical"
    /// The inverse-variance mean of the registered frames (validation's second yardstick).
    public static let inverseVarianceStack = "stack/inverse_variance"
    /// `stack`: the final stack of the synthetic frames.
    public static let stack = "stack"
    /// `validation`: phase 10's verdict.
    public static let validation = "validation"

    /// The pattern a node name stands for in docs and tables: `register/00017` -> `register/NNNNN`,
    /// `synthetic/07` -> `synthetic/NN`.
    public static func pattern(_ name: String) -> String {
        name.replacingOccurrences(of: #"/\d{5}$"#, with: "/NNNNN", options: .regularExpression)
            .replacingOccurrences(of: #"/\d{2}$"#, with: "/NN", options: .regularExpression)
    }
}
