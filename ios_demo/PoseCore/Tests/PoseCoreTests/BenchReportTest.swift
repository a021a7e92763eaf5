import XCTest
@testable import PoseCore

final class BenchReportTest: XCTestCase {
    static let manifest = """
        {"format_name": "mhp-export-manifest", "version": 1, "model": "LPSKI", "format": "tflite", "precision": "int8",
         "input": {"name": "image", "shape": [1, 128, 128, 3], "layout": "NHWC", "dtype": "uint8"},
         "outputs": [{"name": "heatmaps", "shape": [1, 16, 16, 64], "dtype": "int8"}],
         "decode": "host_soft_argmax",
         "geometry": {"input_size": 128, "heatmap_size": [16, 16], "depth_bins": 32, "depth_range_mm": 2000.0},
         "joints": {"names": ["Pelvis", "R_Hip"], "bones": [[0, 1]], "root": 0}}
        """

    func testPercentilesInterpolateLikeNumpy() throws {
        let stats = try LatencyStats((0..<10).map { 10.0 - Double($0) })  // 10, 9, ..., 1 unsorted
        XCTAssertEqual(5.5, stats.percentile(50.0), accuracy: 1e-12)
        XCTAssertEqual(9.1, stats.percentile(90.0), accuracy: 1e-12)
        XCTAssertEqual(9.91, stats.percentile(99.0), accuracy: 1e-12)
        XCTAssertEqual(1.0, stats.min)
        XCTAssertEqual(5.5, stats.mean, accuracy: 1e-12)
        XCTAssertEqual(3.0, try LatencyStats([3.0]).percentile(99.0))
        XCTAssertThrowsError(try LatencyStats([1.0, Double.nan]))
    }

    /// The file the app writes; with MHP_BENCH_OUT=FILE it is kept for `mhp-bench --ingest`.
    func testReportHoldsTimedAndSkippedRows() throws {
        let manifest = try ModelManifest.parse(Self.manifest)
        let device = ["model": "iPhone15,2", "name": "iPhone 14 Pro", "chip": "A16", "os": "iOS 17.4"]
        let report = BenchReport(platform: "ios", device: device, app: ["name": "MhpPoseDemo", "version": "0.1.0"])
        try report.timed(
            model: manifest, artifact: "lpski_int8.tflite", sizeBytes: 4_014_744, delegate: "xnnpack", threads: 4, warmup: 10,
            latenciesMs: [6.0, 5.0, 7.0, 5.5], initMs: 21.5, partitions: 1
        )
        report.skipped(
            model: manifest, artifact: "lpski_int8.tflite", sizeBytes: 4_014_744, delegate: "gpu", threads: nil,
            reason: "Metal delegate: INT8 ops are not supported"
        )
        XCTAssertEqual(2, report.size)
        let text = try report.toJson(created: "2026-11-21T12:00:00Z")
        let file = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(file["rows"] as? [[String: Any]])
        let timed = rows[0]
        XCTAssertEqual(5.75, try XCTUnwrap(timed["latency_p50_ms"] as? Double), accuracy: 1e-12)
        XCTAssertEqual(1000.0 / 5.875, try XCTUnwrap(timed["throughput_fps"] as? Double), accuracy: 1e-9)
        XCTAssertEqual("int8", timed["precision"] as? String)
        XCTAssertTrue(rows[1]["threads"] is NSNull)
        XCTAssertEqual(1, timed["partitions"] as? Int)
        let unreported = BenchReport(platform: "ios", device: device, app: [:])
        try unreported.timed(
            model: manifest, artifact: "lpski_int8.tflite", sizeBytes: 4_014_744, delegate: "gpu", threads: nil, warmup: 10,
            latenciesMs: [6.0], initMs: 21.5
        )
        let unreportedFile = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(unreported.toJson(created: "2026-11-21T12:00:00Z").utf8)) as? [String: Any]
        )
        XCTAssertTrue((unreportedFile["rows"] as? [[String: Any]])?.first?["partitions"] is NSNull)
        XCTAssertThrowsError(try ModelManifest.parse(Self.manifest.replacingOccurrences(of: "64]", with: "65]"))) { error in
            XCTAssertEqual("heatmap output has 65 channels, not joints x depth bins = 64", (error as? PoseCoreError)?.message)
        }
        XCTAssertThrowsError(try ModelManifest.parse("{\"format_name\": \"mhp-export-manifest\"}")) { error in
            XCTAssertTrue((error as? PoseCoreError)?.message.hasPrefix("not a valid mhp export manifest") ?? false)
        }
        if let out = ProcessInfo.processInfo.environment["MHP_BENCH_OUT"] {
            try text.write(toFile: out, atomically: true, encoding: .utf8)
        }
    }

    /// Swift only: CoreML artifacts are timed on the CoreML runtime, with MLComputeUnits names as the delegate.
    func testCoreMLRowsNameTheCoreMLRuntime() throws {
        let coreML = try ModelManifest.parse(
            Self.manifest.replacingOccurrences(of: "\"format\": \"tflite\"", with: "\"format\": \"coreml\"")
        )
        let report = BenchReport(platform: "ios", device: ["model": "iPhone15,2", "os": "iOS 17.4"], app: [:])
        try report.timed(
            model: coreML, artifact: "lpski_int8.mlpackage", sizeBytes: 2_498_816, delegate: "all", threads: nil, warmup: 1,
            latenciesMs: [2.0], initMs: 180.0
        )
        let file = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.toJson(created: "now").utf8)) as? [String: Any])
        let row = try XCTUnwrap((file["rows"] as? [[String: Any]])?.first)
        XCTAssertEqual("coreml", row["runtime"] as? String)
        XCTAssertEqual("coreml", row["format"] as? String)
        XCTAssertEqual("all", row["delegate"] as? String)
    }
}
