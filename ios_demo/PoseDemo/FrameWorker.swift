import CoreMedia
import Dispatch
import CoreVideo
import PoseCore

/// One processed frame as the UI shows it: the pipeline's result, which intrinsics it used, whether the picture is
/// mirrored (front camera), what ran the model (it changes when an accelerator falls back to the CPU), and which load
/// of the pipeline it came from (frames of an older load may still arrive after a new one).
struct ShownFrame {
    let result: FrameResult
    let intrinsicsNote: String
    let mirrored: Bool
    let running: RunningModel?
    let generation: Int
}

/// Runs camera frames through PoseCore's FramePipeline on one serial queue; its state is touched only on that queue.
/// The benchmark runs on the same queue, so frames that arrive meanwhile are dropped, not queued.
final class FrameWorker {
    let queue = DispatchQueue(label: "mhp.pose", qos: .userInitiated)
    private var pipeline: FramePipeline?
    private var runner: FallbackModel?
    /// The load the installed pipeline belongs to (PoseSession counts its loads).
    private var generation = 0
    /// The frame being processed: what `intrinsics(width:height:)` reads when the pipeline asks.
    private var current: (info: CameraFrameInfo, width: Int, height: Int)?
    private(set) var intrinsicsNote = CameraIntrinsics.fallbackNote

    func install(_ fresh: (FramePipeline, FallbackModel)?, generation: Int) {
        queue.async {
            self.pipeline = fresh?.0
            self.runner = fresh?.1
            self.generation = generation
        }
    }

    /// The pipeline's intrinsics callback (on `queue`, inside `process`): the buffer's own matrix turned upright,
    /// else PoseCore's fallback.
    func intrinsics(width: Int, height: Int) -> Intrinsics {
        if let frame = current, let matrix = frame.info.bufferIntrinsics,
           let camera = CameraIntrinsics.upright(
               matrix, bufferWidth: frame.width, bufferHeight: frame.height, rotationDegrees: frame.info.rotationDegrees
           ) {
            intrinsicsNote = CameraIntrinsics.cameraNote
            return camera
        }
        intrinsicsNote = CameraIntrinsics.fallbackNote
        return CameraIntrinsics.fallback(width: width, height: height)
    }

    /// On `queue`: one camera buffer, in sensor orientation, through the pipeline, which turns it upright by
    /// `info.rotationDegrees` before the crop; nil without a pipeline. Also the runtime's fallback notice, if any.
    func process(_ buffer: CVPixelBuffer, _ time: CMTime, _ info: CameraFrameInfo) -> (Result<ShownFrame, Error>, String?)? {
        guard let pipeline = pipeline else {
            return nil
        }
        let outcome = Result { () -> ShownFrame in
            let frame = try PixelBufferCopy.rgba(buffer)
            current = (info: info, width: frame.width, height: frame.height)
            defer { current = nil }
            // an invalid CMTime gives NaN seconds, and Int64(NaN) traps: fall back to the uptime clock
            let seconds = CMTimeGetSeconds(time)
            let timestampNs = seconds.isFinite ? Int64(seconds * 1e9) : Int64(DispatchTime.now().uptimeNanoseconds)
            let result = try pipeline.process(frame, rotationDegrees: info.rotationDegrees, timestampNs: timestampNs)
            return ShownFrame(
                result: result, intrinsicsNote: intrinsicsNote, mirrored: info.mirrored, running: runner?.running,
                generation: generation
            )
        }
        return (outcome, runner?.notice)
    }
}
