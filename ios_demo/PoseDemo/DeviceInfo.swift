import UIKit

/// The phone as the benchmark file's `device` and `app` records describe it (benchmarks/README.md).
@MainActor
enum DeviceInfo {
    /// The TensorFlowLiteSwift version the Podfile pins (tests/ios checks they agree).
    static let liteRTVersion = "2.17.0"

    /// `utsname.machine`, e.g. `iPhone15,2`.
    static var model: String {
        var system = utsname()
        uname(&system)
        return withUnsafeBytes(of: &system.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    static var device: [String: Any] {
        let phone = UIDevice.current
        return ["model": model, "name": phone.model, "os": "\(phone.systemName) \(phone.systemVersion)"]
    }

    static var app: [String: Any] {
        let info = Bundle.main.infoDictionary ?? [:]
        return [
            "name": "MhpPoseDemo",
            "version": info["CFBundleShortVersionString"] as? String ?? "?",
            "build": info["CFBundleVersion"] as? String ?? "?",
            "litert": liteRTVersion,
        ]
    }
}
