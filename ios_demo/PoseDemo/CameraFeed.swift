import AVFoundation
import PoseCore

/// The camera: an AVCaptureSession that hands upright (portrait) 32BGRA frames to `onFrame` on the given queue,
/// dropping frames while one is being processed (alwaysDiscardsLateVideoFrames).
final class CameraFeed: NSObject, AVCaptureVideoDataOutputSampleBufferDelegate {
    let session = AVCaptureSession()
    private let output = AVCaptureVideoDataOutput()
    private var onFrame: ((CVPixelBuffer, CMTime) -> Void)?
    /// The active format's field of view along the sensor's long side, in degrees.
    private(set) var longSideFovDegrees = Intrinsics.defaultHorizontalFovDeg
    private(set) var position = AVCaptureDevice.Position.back

    /// Asks for camera access when needed; throws a message the app shows when it is denied.
    static func requestAccess() async throws {
        switch AVCaptureDevice.authorizationStatus(for: .video) {
        case .authorized:
            return
        case .notDetermined:
            if await AVCaptureDevice.requestAccess(for: .video) {
                return
            }
        default:
            break
        }
        throw AppError("Camera access is off: allow it in Settings > Privacy & Security > Camera.")
    }

    func start(position: AVCaptureDevice.Position, queue: DispatchQueue, onFrame: @escaping (CVPixelBuffer, CMTime) -> Void) throws {
        guard let camera = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: position) else {
            throw AppError("This device has no \(position == .front ? "front" : "back") camera.")
        }
        let input = try AVCaptureDeviceInput(device: camera)
        session.beginConfiguration()
        session.inputs.forEach { session.removeInput($0) }
        session.outputs.forEach { session.removeOutput($0) }
        session.sessionPreset = .hd1280x720
        guard session.canAddInput(input), session.canAddOutput(output) else {
            session.commitConfiguration()
            throw AppError("The camera cannot stream 1280x720 video here.")
        }
        session.addInput(input)
        output.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_32BGRA]
        output.alwaysDiscardsLateVideoFrames = true
        output.setSampleBufferDelegate(self, queue: queue)
        session.addOutput(output)
        if let connection = output.connection(with: .video) {
            if #available(iOS 17.0, *) {
                connection.videoRotationAngle = 90
            } else {
                connection.videoOrientation = .portrait
            }
            connection.isVideoMirrored = false
        }
        session.commitConfiguration()
        longSideFovDegrees = Double(camera.activeFormat.videoFieldOfView)
        self.position = position
        self.onFrame = onFrame
        queue.async { self.session.startRunning() }
    }

    func stop() {
        session.stopRunning()
    }

    func captureOutput(_ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer, from connection: AVCaptureConnection) {
        guard let buffer = CMSampleBufferGetImageBuffer(sampleBuffer) else {
            return
        }
        onFrame?(buffer, CMSampleBufferGetPresentationTimeStamp(sampleBuffer))
    }
}
