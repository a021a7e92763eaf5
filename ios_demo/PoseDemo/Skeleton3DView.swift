import PoseCore
import SwiftUI

/// The root-relative 3D pose as an orthographic orbit view (PoseCore's Projection); drag to turn it.
struct Skeleton3DView: View {
    let jointsRelMm: [[Double]]
    let skeleton: Skeleton
    @State private var yaw = 30.0
    @State private var pitch = 10.0

    var body: some View {
        Canvas { context, size in
            let scale = Double(min(size.width, size.height)) / 2400  // a 2 m person fills the view
            let points = jointsRelMm.map { joint -> CGPoint in
                let p = Projection.project(joint, yawDegrees: yaw, pitchDegrees: pitch, scale: scale)
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
            DragGesture().onChanged { drag in
                yaw += Double(drag.translation.width) / 40
                pitch = max(-80, min(80, pitch - Double(drag.translation.height) / 40))
            }
        )
    }
}
