import PoseCore
import SwiftUI

/// The 2D pose over the camera picture: bones and joints mapped from upright frame pixels to the view by ViewFit, only
/// when the frame shows a person; on frames where the person detector ran, the boxes of the people it found.
struct SkeletonOverlay: View {
    let result: FrameResult
    let skeleton: Skeleton
    let mirrored: Bool

    var body: some View {
        Canvas { context, size in
            let fit = ViewFit(
                frameWidth: result.uprightWidth, frameHeight: result.uprightHeight,
                viewWidth: Int(size.width), viewHeight: Int(size.height), mirrored: mirrored
            )
            for detection in result.detectorRan ? result.detections : [] {
                let box = detection.personBox(width: result.uprightWidth, height: result.uprightHeight)
                let corner = fit.map(box[0], box[1])
                let opposite = fit.map(box[0] + box[2], box[1] + box[3])
                let rect = CGRect(x: min(corner[0], opposite[0]), y: corner[1], width: abs(opposite[0] - corner[0]), height: opposite[1] - corner[1])
                context.stroke(Path(rect), with: .color(.yellow), lineWidth: 2)
            }
            guard result.person, let pose = result.pose else {
                return  // nobody shown: no skeleton; StatsView says "no person"
            }
            let points = pose.jointsImage.map { joint -> CGPoint in
                let p = fit.map(joint[0], joint[1])
                return CGPoint(x: p[0], y: p[1])
            }
            var bones = Path()
            for (a, b) in skeleton.bones where a < points.count && b < points.count {
                bones.move(to: points[a])
                bones.addLine(to: points[b])
            }
            context.stroke(bones, with: .color(result.trackLost ? .orange : .green), lineWidth: 3)
            for point in points {
                context.fill(Path(ellipseIn: CGRect(x: point.x - 4, y: point.y - 4, width: 8, height: 8)), with: .color(.white))
            }
        }
        .allowsHitTesting(false)
    }
}
