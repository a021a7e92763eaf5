import PoseCore
import SwiftUI

/// The 3D view's viewing angles in degrees. ContentView keeps them, so a frame without a person (when the 3D view is
/// not on screen) does not reset the angle the user dragged to; double-tapping the view is the one reset.
struct Orbit: Equatable {
    static let initial = Orbit(yaw: 30, pitch: 10)

    var yaw: Double
    var pitch: Double
}

/// The root-relative 3D pose as an orthographic orbit view (PoseCore's Projection); drag to turn it, double-tap to
/// turn it back. With the front camera the x axis is mirrored, as the preview and the 2D overlay are, so the 3D
/// person moves with the picture.
struct Skeleton3DView: View {
    let jointsRelMm: [[Double]]
    let skeleton: Skeleton
    let mirrored: Bool
    @Binding var orbit: Orbit
    /// The angles when the drag began: each change sets the angles from these plus the drag's translation from its
    /// start (DragGesture.Value.translation is cumulative; adding it on every change would accelerate the turn).
    @State private var dragStart: Orbit?

    var body: some View {
        Canvas { context, size in
            let scale = Double(min(size.width, size.height)) / 2400  // a 2 m person fills the view
            let points = jointsRelMm.map { joint -> CGPoint in
                let seen = mirrored && joint.count == 3 ? [-joint[0], joint[1], joint[2]] : joint
                let p = Projection.project(seen, yawDegrees: orbit.yaw, pitchDegrees: orbit.pitch, scale: scale)
                return CGPoint(x: Double(size.width) / 2 + p[0], y: Double(size.height) / 2 + p[1])
            }
            var bones = Path()
            for (a, b) in skeleton.bones where a < points.count && b < points.count {
                bones.move(to: points[a])
                bones.addLine(to: points[b])
            }
            context.stroke(bones, with: .color(.cyan), lineWidth: 2)
        }
        .background(Color.black.opacity(0.6))
        .gesture(
            DragGesture()
                .onChanged { drag in
                    let start = dragStart ?? orbit
                    dragStart = start
                    orbit.yaw = start.yaw + Double(drag.translation.width) / 4
                    orbit.pitch = max(-80, min(80, start.pitch - Double(drag.translation.height) / 4))
                }
                .onEnded { _ in dragStart = nil }
        )
        .onTapGesture(count: 2) {
            orbit = .initial
        }
    }
}
