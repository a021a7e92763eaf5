import Foundation

/// A failure the app shows as a message instead of crashing (a missing model, a denied camera, a delegate error).
struct AppError: Error, LocalizedError {
    let message: String

    init(_ message: String) {
        self.message = message
    }

    var errorDescription: String? { message }
}
