import Foundation

/// An argument or input a PoseCore function cannot use (Kotlin's require() and its IllegalArgumentException).
public struct PoseCoreError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    public var errorDescription: String? { message }
}

/// Throws a PoseCoreError with `message` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition {
        throw PoseCoreError(message())
    }
}
