import CoreML
import CryptoKit
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

    /// The compiled model of a bundled .mlpackage, cached in Application Support under the package's sha256 (`sha`,
    /// from `sha256(of:)`, which `check` compared with the manifest's artifact_sha256): a re-exported package with the
    /// same name compiles afresh (a cache keyed on CFBundleVersion, always "1", would keep the old one), and the
    /// compiled models of older exports are removed.
    static func compiled(_ model: BundledModel, sha: String) throws -> URL {
        let support = try FileManager.default.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
        )
        let stem = model.artifact.deletingPathExtension().lastPathComponent
        let target = support.appendingPathComponent("\(stem)-\(sha).mlmodelc")
        if FileManager.default.fileExists(atPath: target.path) {
            return target
        }
        let stale = (try? FileManager.default.contentsOfDirectory(atPath: support.path)) ?? []
        for name in stale where name.hasPrefix("\(stem)-") && name.hasSuffix(".mlmodelc") {
            try? FileManager.default.removeItem(at: support.appendingPathComponent(name))
        }
        // MLModel.compileModel(at:) compiles an .mlmodel or .mlpackage into a temporary .mlmodelc the app must move
        let temporary = try MLModel.compileModel(at: model.artifact)
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.moveItem(at: temporary, to: target)
        return target
    }

    /// PoseCore's run-time checks (ModelManifest.checkArtifact): the manifest version, the artifact's sha256 against
    /// artifact_sha256, raw 0-255 pixels in (normalisation inside the graph; a uint8 input quantised with scale 1 and
    /// zero point 0, or not at all). `inputScale`/`inputZeroPoint`: the interpreter's input tensor quantisation (0 and
    /// 0 before a model is loaded, and for CoreML's image input). A refusal is one line naming the artifact.
    static func check(_ model: BundledModel, sha: String, inputScale: Double = 0, inputZeroPoint: Int = 0) throws {
        do {
            try model.manifest.checkArtifact(artifactSha256: sha, inputScale: inputScale, inputZeroPoint: inputZeroPoint)
        } catch {
            throw AppError("\(model.id): \(error.localizedDescription)")
        }
    }

    /// mhp.runtime.manifest.artifact_sha256: a file's SHA-256, or for a folder (.mlpackage) the SHA-256 of every
    /// file's "relative/path\0<file sha256 hex>\0", files in the order of their path components.
    static func sha256(of url: URL) throws -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw AppError("\(url.lastPathComponent) is missing from the app bundle")
        }
        guard isFolder.boolValue else {
            return hex(SHA256.hash(data: try Data(contentsOf: url, options: .mappedIfSafe)))
        }
        guard let walk = FileManager.default.enumerator(atPath: url.path) else {
            throw AppError("cannot list \(url.lastPathComponent)")
        }
        var files: [String] = []
        for case let relative as String in walk {
            var folder: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(relative).path, isDirectory: &folder), !folder.boolValue {
                files.append(relative)
            }
        }
        // Python sorts Path objects by their parts (code points), not by the joined string
        files.sort { a, b in
            let pa = a.split(separator: "/").map { Array($0.unicodeScalars.map { $0.value }) }
            let pb = b.split(separator: "/").map { Array($0.unicodeScalars.map { $0.value }) }
            return pa.lexicographicallyPrecedes(pb) { $0.lexicographicallyPrecedes($1) }
        }
        var record = Data()
        for relative in files {
            let digest = hex(SHA256.hash(data: try Data(contentsOf: url.appendingPathComponent(relative), options: .mappedIfSafe)))
            record.append(Data("\(relative)\u{0}\(digest)\u{0}".utf8))
        }
        return hex(SHA256.hash(data: record))
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
