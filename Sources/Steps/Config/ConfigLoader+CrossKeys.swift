// Rules that tie several keys together, checked after the file and the overrides.

extension ConfigLoader {
    /// Checks weight sums and `synthetic.frames_min <= synthetic.frames_max`; throws the
    /// violation whose location comes first (file lines in order, then overrides).
    /// `overrideOrder` lists the overridden key paths in the order they were applied.
    static func checkCrossKeys(_ config: TCConfig, origins: [String: ConfigLocation],
                               overrideOrder: [String]) throws(ConfigError) {
        var problems: [ConfigError] = []
        for (group, members) in ConfigSchema.weightGroups {
            let values = members.map { Double(config.value(at: "\(group).\($0)") ?? "") ?? .nan }
            let sum = values.reduce(0, +)
            guard Swift.abs(sum - 1) > 1e-6 else { continue }
            let terms = zip(members, values).map { "\($0) \(formatNumber($1))" }
            let at = location(of: members.map { "\(group).\($0)" }, group: group, origins: origins,
                              overrideOrder: overrideOrder)
            problems.append(.weightsSum(at, keyPath: group, terms: terms, sum: formatSum(sum)))
        }
        let syn = config.synthetic
        if syn.framesMin > syn.framesMax {
            let at = location(of: ["synthetic.frames_min", "synthetic.frames_max"], group: nil, origins: origins,
                              overrideOrder: overrideOrder)
            problems.append(.crossKey(at, keyPath: "synthetic.frames_min", message:
                "synthetic.frames_min (\(syn.framesMin)) must not exceed synthetic.frames_max (\(syn.framesMax)); "
                + "lower synthetic.frames_min or raise synthetic.frames_max"))
        }
        let first = problems.min { order($0.location) < order($1.location) }
        if let first { throw first }
    }

    /// Sort key: file problems by line, override problems after them.
    private static func order(_ l: ConfigLocation) -> Int {
        l.override != nil ? Int.max : (l.line ?? Int.max - 1)
    }

    /// Where a rule over `paths` was broken: the last override that set one of them, else the
    /// group's own key in the file, else the first member set in the file, else the file itself.
    private static func location(of paths: [String], group: String?,
                                 origins: [String: ConfigLocation], overrideOrder: [String]) -> ConfigLocation {
        if let last = overrideOrder.last(where: paths.contains), let o = origins[last] { return o }
        let set = paths.compactMap { origins[$0] }
        if let group, let g = origins[group] { return g }
        if let f = set.min(by: { ($0.line ?? 0) < ($1.line ?? 0) }) { return f }
        return origins.values.first { $0.file != nil }.map { ConfigLocation(file: $0.file ?? "") }
            ?? ConfigLocation(file: "<defaults>")
    }
}
