import CoreML
import Foundation
import PoseCore

/// One artifact bundled in the app's Models folder (copy_models.sh), with its mhp export manifest.
struct BundledModel: Identifiable {
    let artifact: URL
    let manifest: ModelManifest
    let sizeBytes: Int64

    var id: String { artifact.lastPathComponent }
}

/// The artifacts in the app bundle, every one beside its manifest; a missing piece throws a message saying what to do.
enum ModelAssets {
    static let folder = "Models"
    /// MediaPipe's person detector (make detector; copy_models.sh bundles it beside the artifacts): no manifest, so it
    /// is not listed as a pose model.
    static let detectorFile = "pose_detection.tflite"

    /// The bundled person detector, nil when the app was built without it.
    static func detector(in bundle: Bundle = .main) -> URL? {
        let url = bundle.resourceURL?.appendingPathComponent(folder, isDirectory: true).appendingPathComponent(detectorFile)
        return url.flatMap { FileManager.default.fileExists(atPath: $0.path) ? $0 : nil }
    }

    static func bundled(in bundle: Bundle = .main) throws -> [BundledModel] {
        let fix = "run ios_demo/copy_models.sh EXPORT_DIR and rebuild the app"
        guard let root = bundle.resourceURL?.appendingPathComponent(folder, isDirectory: true),
              FileManager.default.fileExists(atPath: root.path)
        else {
            throw AppError("No Models folder in the app: \(fix).")
        }
        let manifests = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".json") }.sorted()
        guard !manifests.isEmpty else {
            throw AppError("No model in the app's Models folder: \(fix).")
        }
        return try manifests.map { name in
            let artifact = root.appendingPathComponent(String(name.dropLast(".json".count)))
            guard FileManager.default.fileExists(atPath: artifact.path) else {
                throw AppError("\(name) is bundled without its artifact \(artifact.lastPathComponent): \(fix).")
            }
            let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
            do {
                return BundledModel(artifact: artifact, manifest: try ModelManifest.parse(text), sizeBytes: try bytes(of: artifact))
            } catch {
                throw AppError("\(name): \(error.localizedDescription)")
            }
        }
    }

    /// The size of a file, or of every file in a package folder.
    static func bytes(of url: URL) throws -> Int64 {
        let values = try url.resourceValues(forKeys: [.isDirectoryKey, .fileSizeKey])
        guard values.isDirectory == true else {
            return Int64(values.fileSize ?? 0)
        }
        guard let files = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey]) else {
            return 0
        }
        var total: Int64 = 0
        for case let file as URL in files {
            let size = try file.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
            total += Int64(size)
        }
        return total
    }

    /// The compiled model of a bundled .mlpackage: compiled once per app build into Application Support.
    static func compiled(_ model: BundledModel) throws -> URL {
        let support = try FileManager.default.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
        )
        let build = Bundle.main.object(forInfoDictionaryKey: "CFBundleVersion") as? String ?? "0"
        let target = support.appendingPathComponent("\(build)-\(model.artifact.deletingPathExtension().lastPathComponent).mlmodelc")
        if FileManager.default.fileExists(atPath: target.path) {
            return target
        }
        let temporary = try MLModel.compileModel(at: model.artifact)
        try FileManager.default.moveItem(at: temporary, to: target)
        return target
    }
}
