import Foundation

/// How much of a graph one delegate took: `onDelegate` of `total` units ("nodes" for LiteRT, "ops" for Core ML; `total`
/// nil when not reported), the graph cut into `partitions` parts (nil: not reported). LiteRT counts the parts on the
/// delegate and the runs left between them on the CPU together, so 1 is the whole graph in one delegate kernel.
public struct Delegation {
    public let onDelegate: Int
    public let total: Int?
    public let partitions: Int?
    public let unit: String

    public init(onDelegate: Int, total: Int?, partitions: Int?, unit: String) throws {
        try require(
            onDelegate >= 0 && (total.map { $0 >= onDelegate } ?? true) && (partitions.map { $0 >= 0 } ?? true),
            "delegation counts must be non-negative, with at most the total on the delegate"
        )
        self.onDelegate = onDelegate
        self.total = total
        self.partitions = partitions
        self.unit = unit
    }

    /// Every unit on the delegate (the total known), in one partition where partitions are reported.
    public var full: Bool { onDelegate == total && (partitions ?? 1) == 1 }

    /// One short line for a status bar: "GPU: 61 of 65 nodes on the delegate, 4 on the CPU, 2 partitions".
    public func describe(_ name: String) -> String {
        let counted: String
        if let total = total, total != onDelegate {
            counted = "\(onDelegate) of \(total) \(unit) on the delegate, \(total - onDelegate) on the CPU"
        } else if let total = total {
            counted = "all \(total) \(unit) on the delegate"
        } else {
            counted = "\(onDelegate) \(unit) on the delegate"
        }
        var parts = ""
        if let partitions = partitions, !full {
            parts = partitions == 1 ? ", 1 partition" : ", \(partitions) partitions"
        }
        return "\(name): \(counted)\(parts)"
    }

    // "Replacing 61 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions for the whole
    // graph." (newer LiteRT ends "for subgraph 0."), older TF Lite "Replacing 61 node(s) with delegate (...) node,
    // yielding 2 partitions."; at most nine digits, so every count fits an Int
    private static let replacing = try! NSRegularExpression(
        pattern: #"Replacing (\d{1,9})(?: out of (\d{1,9}))? node\(s\) with delegate \(([^)]+)\) node, yielding (\d{1,9}) partitions"#
    )

    /// The last "Replacing ... node(s) with delegate (`kernel`) node, yielding P partitions" line, either format; nil
    /// when there is none (or its counts are impossible).
    public static func fromLiteRtLog(_ log: String, kernel: String) -> Delegation? {
        let lines = replacing.matches(in: log, range: NSRange(log.startIndex..., in: log))
        guard let line = lines.last(where: { group($0, 3, in: log) == kernel }),
              let onDelegate = group(line, 1, in: log).flatMap({ Int($0) }),
              let partitions = group(line, 4, in: log).flatMap({ Int($0) })
        else {
            return nil
        }
        let total = group(line, 2, in: log).flatMap { Int($0) }
        return try? Delegation(onDelegate: onDelegate, total: total, partitions: partitions, unit: "nodes")
    }

    /// The text of capture group `index`, nil when the group did not take part in the match.
    private static func group(_ match: NSTextCheckingResult, _ index: Int, in text: String) -> String? {
        Range(match.range(at: index), in: text).map { String(text[$0]) }
    }
}
