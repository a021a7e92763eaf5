import Foundation
import XCTest

/// The golden files Python writes: $MHP_GOLDEN, else golden/ at the repository root.
func goldenFolder() -> URL {
    if let path = ProcessInfo.processInfo.environment["MHP_GOLDEN"] {
        return URL(fileURLWithPath: path)
    }
    // this file is <root>/ios_demo/PoseCore/Tests/PoseCoreTests/TestSupport.swift
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<5 {
        root.deleteLastPathComponent()
    }
    return root.appendingPathComponent("golden")
}

/// A parsed JSON object of a test file; fails the test when the file is not one.
func readJsonObject(_ url: URL) throws -> [String: Any] {
    let parsed = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return try XCTUnwrap(parsed as? [String: Any], "\(url.path) is not a JSON object")
}

/// Little-endian float32 values.
func littleEndianFloats(_ data: Data) -> [Float] {
    let bytes = [UInt8](data)
    return stride(from: 0, to: bytes.count - 3, by: 4).map { i in
        Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
    }
}

/// Seeded pseudo-random bytes (SplitMix64), so a test sees the same frame on every run.
func seededBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt8(truncatingIfNeeded: z ^ (z >> 31))
    }
}

func assertClose(_ expected: [Double], _ actual: [Double], _ tolerance: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(expected.count, actual.count, what, file: file, line: line)
    for (i, (e, a)) in zip(expected, actual).enumerated() {
        XCTAssertTrue(abs(e - a) <= tolerance, "\(what)[\(i)]: expected \(e), got \(a) (tolerance \(tolerance))", file: file, line: line)
    }
}

func assertClose(_ expected: [[Double]], _ actual: [[Double]], _ tolerance: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(expected.count, actual.count, what, file: file, line: line)
    for (i, (e, a)) in zip(expected, actual).enumerated() {
        assertClose(e, a, tolerance, "\(what)[\(i)]", file: file, line: line)
    }
}
