import XCTest
@testable import PoseCore

/// The run-time checks an app makes on a bundled model and its manifest (ModelManifest.checkArtifact). PoseCore is
/// Foundation only: the app hashes the model file (CryptoKit) and passes the hex digest, as posecore's apps do.
final class ManifestTest: XCTestCase {
    private let sha = "9019cb43e0683620694c8fc59b0dd5f80c6ee6645e1c38da9c52d97dc67ce6fe"

    private var exported: String {
        BenchReportTest.manifest
            .replacingOccurrences(
                of: "\"dtype\": \"uint8\"}",
                with: "\"dtype\": \"uint8\", \"normalization\": {\"name\": \"legacy\", \"inside_graph\": true}}"
            )
            .replacingOccurrences(of: "\"version\": 1,", with: "\"version\": 1, \"artifact_sha256\": \"\(sha)\",")
    }

    private func refusal(
        _ manifest: ModelManifest, _ digest: String?, scale: Double = 1.0, zeroPoint: Int = 0,
        file: StaticString = #filePath, line: UInt = #line
    ) -> String {
        do {
            try manifest.checkArtifact(artifactSha256: digest, inputScale: scale, inputZeroPoint: zeroPoint)
        } catch let error as PoseCoreError {
            XCTAssertFalse(error.message.contains("\n"), error.message, file: file, line: line)
            return error.message
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        XCTFail("not refused", file: file, line: line)
        return ""
    }

    func testTheManifestRecordsWhatTheRunTimeChecksNeed() throws {
        let manifest = try ModelManifest.parse(exported)
        XCTAssertEqual(1, manifest.version)
        XCTAssertEqual(sha, manifest.artifactSha256)
        XCTAssertTrue(manifest.normalizationInsideGraph)
        let bare = try ModelManifest.parse(BenchReportTest.manifest.replacingOccurrences(of: "\"version\": 1, ", with: ""))
        XCTAssertEqual(-1, bare.version)
        XCTAssertNil(bare.artifactSha256)
        XCTAssertFalse(bare.normalizationInsideGraph)  // not said: the app cannot know the model normalises
    }

    func testAnExportedModelPassesTheRunTimeChecks() throws {
        let manifest = try ModelManifest.parse(exported)
        try manifest.checkArtifact(artifactSha256: sha, inputScale: 1.0, inputZeroPoint: 0)  // full INT8: scale 1, zero point 0
        try manifest.checkArtifact(artifactSha256: sha.uppercased(), inputScale: 0.0, inputZeroPoint: 0)  // fp32: not quantised
        try manifest.checkArtifact(artifactSha256: nil, inputScale: 1.0, inputZeroPoint: 0)  // a compiled CoreML model
    }

    func testTheRunTimeChecksRefuseAForeignArtifactInOneLine() throws {
        let manifest = try ModelManifest.parse(exported)
        let other = "0" + String(sha.dropFirst())
        XCTAssertEqual(
            "the model file is not the one its manifest was written for (sha256 0019cb43e068..., the manifest says "
                + "9019cb43e068...); copy the model and its manifest from one mhp-export run",
            refusal(manifest, other)
        )
        let future = try ModelManifest.parse(exported.replacingOccurrences(of: "\"version\": 1,", with: "\"version\": 2,"))
        XCTAssertTrue(refusal(future, sha).hasPrefix("the model manifest has version 2, this app reads version 1"))
        XCTAssertTrue(refusal(manifest, sha, scale: 1.0 / 255).hasPrefix("the model's uint8 input is quantised with scale"))
        XCTAssertTrue(refusal(manifest, sha, zeroPoint: 128).contains("zero point 128"))
        let outside = try ModelManifest.parse(exported.replacingOccurrences(of: "\"inside_graph\": true", with: "\"inside_graph\": false"))
        XCTAssertTrue(refusal(outside, sha).hasPrefix("the model expects normalised pixels"))
        let float = try ModelManifest.parse(exported.replacingOccurrences(of: "\"uint8\"", with: "\"float32\""))
        try float.checkArtifact(artifactSha256: sha, inputScale: 0.5, inputZeroPoint: 3)  // the rule is for uint8 inputs only
    }

    func testDigestsCompareAsLowerCaseHex() throws {
        // FIPS 180-2's digest of "abc", as CryptoKit gives it to the app; mhp writes lower-case hex
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        let manifest = try ModelManifest.parse(exported.replacingOccurrences(of: sha, with: abc))
        try manifest.checkArtifact(artifactSha256: abc, inputScale: 1.0, inputZeroPoint: 0)
        try manifest.checkArtifact(artifactSha256: " \(abc.uppercased())\n", inputScale: 1.0, inputZeroPoint: 0)
        let wrong = "dd" + String(abc.dropFirst(2))
        _ = refusal(manifest, wrong)
    }
}
