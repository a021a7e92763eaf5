import CoreMedia
import CoreVideo
import PoseCore

/// Runs camera frames through PoseCore's FramePipeline on one serial queue; its state is touched only on that queue.
/// The benchmark runs on the same queue, so frames that arrive meanwhile are dropped, not queued.
final class FrameWorker {
    let queue = DispatchQueue(label: "mhp.pose", qos: .userInitiated)
    private var pipeline: FramePipeline?

    func install(_ fresh: FramePipeline?) {
        queue.async { self.pipeline = fresh }
    }

    /// On `queue`: one upright camera frame (the capture connection turns it) through the pipeline; nil without one.
    func process(_ buffer: CVPixelBuffer, _ time: CMTime) -> Result<FrameResult, Error>? {
        guard let pipeline = pipeline else {
            return nil
        }
        return Result {
            let frame = try PixelBufferCopy.rgba(buffer)
            return try pipeline.process(frame, rotationDegrees: 0, timestampNs: Int64(CMTimeGetSeconds(time) * 1e9))
        }
    }
}
