// swift-tools-version:5.7
// PoseCore: the pose maths of the iOS demo, Foundation only, mirroring android_demo/posecore one to one.
import PackageDescription

let package = Package(
    name: "PoseCore",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [.library(name: "PoseCore", targets: ["PoseCore"])],
    targets: [
        .target(name: "PoseCore"),
        .testTarget(name: "PoseCoreTests", dependencies: ["PoseCore"]),
    ]
)
