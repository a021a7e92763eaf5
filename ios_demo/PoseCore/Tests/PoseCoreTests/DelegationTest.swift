import XCTest
@testable import PoseCore

final class DelegationTest: XCTestCase {
    private let gpu = "TfLiteGpuDelegateV2"
    private let xnnpack = "TfLiteXNNPackDelegate"

    func testReadsTheCurrentLogFormat() throws {
        let delegation = try XCTUnwrap(Delegation.fromLiteRtLog(
            "Created TensorFlow Lite delegate for GPU.\n"
                + "Replacing 61 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions for the whole graph.\n",
            kernel: gpu
        ))
        XCTAssertEqual([61, 65, 2], [delegation.onDelegate, delegation.total, delegation.partitions])
        XCTAssertEqual("nodes", delegation.unit)
        XCTAssertFalse(delegation.full)
        let subgraph = try XCTUnwrap(Delegation.fromLiteRtLog(
            "Replacing 44 out of 44 node(s) with delegate (TfLiteXNNPackDelegate) node, yielding 1 partitions for subgraph 0.",
            kernel: xnnpack
        ))
        XCTAssertTrue(subgraph.full)
    }

    func testReadsTheOlderLogFormat() throws {
        let nnapi = try XCTUnwrap(Delegation.fromLiteRtLog(
            "Replacing 12 node(s) with delegate (TfLiteNnapiDelegate) node, yielding 3 partitions.", kernel: "TfLiteNnapiDelegate"
        ))
        XCTAssertEqual(12, nnapi.onDelegate)
        XCTAssertNil(nnapi.total)
        XCTAssertEqual(3, nnapi.partitions)
        XCTAssertFalse(nnapi.full)
    }

    func testTheLastLineForTheKernelWins() throws {
        let log = [
            "Replacing 10 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 5 partitions for the whole graph.",
            "Replacing 65 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 1 partitions for the whole graph.",
        ].joined(separator: "\n")
        let delegation = try XCTUnwrap(Delegation.fromLiteRtLog(log, kernel: gpu))
        XCTAssertEqual(65, delegation.onDelegate)
        XCTAssertTrue(delegation.full)
    }

    func testAnotherKernelsLineIsIgnored() throws {
        let log = "Replacing 30 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 4 partitions for the whole graph.\n"
            + "Replacing 65 out of 65 node(s) with delegate (TfLiteXNNPackDelegate) node, yielding 1 partitions for the whole graph.\n"
        XCTAssertEqual(30, try XCTUnwrap(Delegation.fromLiteRtLog(log, kernel: gpu)).onDelegate)
        XCTAssertNil(Delegation.fromLiteRtLog(log, kernel: "TfLiteNnapiDelegate"))
        XCTAssertNil(Delegation.fromLiteRtLog(log, kernel: "TfLiteGpuDelegate"))  // a kernel name is matched whole
    }

    func testNoLineIsNull() {
        XCTAssertNil(Delegation.fromLiteRtLog("", kernel: gpu))
        XCTAssertNil(Delegation.fromLiteRtLog(
            "Created TensorFlow Lite XNNPACK delegate for CPU.\nInitialized TensorFlow Lite runtime.", kernel: xnnpack
        ))
        // counts LiteRT never writes: more on the delegate than in the graph, or beyond an Int
        XCTAssertNil(Delegation.fromLiteRtLog(
            "Replacing 70 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions.", kernel: gpu
        ))
        XCTAssertNil(Delegation.fromLiteRtLog(
            "Replacing 9999999999 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions.", kernel: gpu
        ))
    }

    func testDescribesPartialFullAndUnknownTotal() throws {
        XCTAssertEqual(
            "GPU: 61 of 65 nodes on the delegate, 4 on the CPU, 2 partitions",
            try Delegation(onDelegate: 61, total: 65, partitions: 2, unit: "nodes").describe("GPU")
        )
        XCTAssertEqual(
            "GPU: all 65 nodes on the delegate", try Delegation(onDelegate: 65, total: 65, partitions: 1, unit: "nodes").describe("GPU")
        )
        XCTAssertEqual(
            "NNAPI: 61 nodes on the delegate, 2 partitions",
            try Delegation(onDelegate: 61, total: nil, partitions: 2, unit: "nodes").describe("NNAPI")
        )
        XCTAssertEqual(
            "GPU: all 65 nodes on the delegate, 3 partitions",
            try Delegation(onDelegate: 65, total: 65, partitions: 3, unit: "nodes").describe("GPU")
        )
        XCTAssertEqual(
            "ANE: all 120 ops on the delegate", try Delegation(onDelegate: 120, total: 120, partitions: nil, unit: "ops").describe("ANE")
        )
        XCTAssertEqual(
            "ANE: 100 of 120 ops on the delegate, 20 on the CPU",
            try Delegation(onDelegate: 100, total: 120, partitions: nil, unit: "ops").describe("ANE")
        )
    }

    func testInvalidCountsAreRejected() throws {
        XCTAssertThrowsError(try Delegation(onDelegate: -1, total: 65, partitions: 2, unit: "nodes"))
        XCTAssertThrowsError(try Delegation(onDelegate: 66, total: 65, partitions: 2, unit: "nodes"))
        XCTAssertThrowsError(try Delegation(onDelegate: 61, total: -1, partitions: 2, unit: "nodes"))
        XCTAssertThrowsError(try Delegation(onDelegate: 61, total: 65, partitions: -1, unit: "nodes"))
        XCTAssertEqual(0, try Delegation(onDelegate: 0, total: 0, partitions: 0, unit: "nodes").onDelegate)
    }
}
