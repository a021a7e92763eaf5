import Foundation

/// Joint names, bones and root, read from an mhp manifest's "joints" record (never hard-coded).
public struct Skeleton {
    public let names: [String]
    public let bones: [(Int, Int)]
    public let root: Int

    public init(names: [String], bones: [(Int, Int)], root: Int) {
        self.names = names
        self.bones = bones
        self.root = root
    }

    /// From the parsed "joints" object; a missing or malformed field throws.
    public static func fromJson(_ joints: [String: Any]) throws -> Skeleton {
        let record = JsonObject(joints)
        let pairs = try record.get("bones", as: [[Int]].self)
        guard pairs.allSatisfy({ $0.count == 2 }) else {
            throw JsonError(message: "every bone in JSONObject[\"bones\"] must join two joints")
        }
        return Skeleton(
            names: try record.get("names", as: [String].self),
            bones: pairs.map { ($0[0], $0[1]) },
            root: try record.int("root")
        )
    }
}
