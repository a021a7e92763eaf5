import Foundation

/// A missing, mistyped or unparsable JSON value (what org.json's JSONException reports in Kotlin).
struct JsonError: Error {
    let message: String
}

/// One JSON object with typed reads that throw a JsonError naming the key (org.json's getX).
struct JsonObject {
    let values: [String: Any]

    init(_ values: [String: Any]) {
        self.values = values
    }

    init(parsing text: String) throws {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            throw JsonError(message: "the text is not JSON (\(error.localizedDescription))")
        }
        guard let object = parsed as? [String: Any] else {
            throw JsonError(message: "the text is not a JSON object")
        }
        self.init(object)
    }

    func has(_ key: String) -> Bool {
        if let value = values[key] {
            return !(value is NSNull)
        }
        return false
    }

    /// The text at `key`, or "" (org.json's optString).
    func optString(_ key: String) -> String {
        values[key] as? String ?? ""
    }

    func get<T>(_ key: String, as type: T.Type) throws -> T {
        guard let value = values[key], !(value is NSNull) else {
            throw JsonError(message: "JSONObject[\"\(key)\"] not found.")
        }
        guard let typed = value as? T else {
            throw JsonError(message: "JSONObject[\"\(key)\"] is not a \(T.self).")
        }
        return typed
    }

    func string(_ key: String) throws -> String { try get(key, as: String.self) }

    func int(_ key: String) throws -> Int { try get(key, as: Int.self) }

    func bool(_ key: String) throws -> Bool { try get(key, as: Bool.self) }

    func double(_ key: String) throws -> Double { try get(key, as: NSNumber.self).doubleValue }

    func ints(_ key: String) throws -> [Int] { try get(key, as: [Int].self) }

    func doubles(_ key: String) throws -> [Double] { try get(key, as: [NSNumber].self).map { $0.doubleValue } }

    func object(_ key: String) throws -> JsonObject { JsonObject(try get(key, as: [String: Any].self)) }

    func objects(_ key: String) throws -> [JsonObject] {
        try get(key, as: [[String: Any]].self).map { JsonObject($0) }
    }
}
