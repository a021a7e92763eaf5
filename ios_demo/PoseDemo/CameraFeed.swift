import AVFoundation
import PoseCore
import UIKit
import simd

/// What the pipeline needs to know about one camera buffer besides its pixels.
struct CameraFrameInfo {
    /// The clockwise turn (a multiple of 90) that makes the buffer upright; PoseCore's `Orientation` applies it before
    /// the crop.
    let rotationDegrees: Int
    /// The camera's intrinsic matrix for this buffer, in the buffer's own pixels (origin at the top-left corner of the
    /// top-left pixel), or nil when AVFoundation delivers none.
    let bufferIntrinsics: simd_float3x3?
    /// Front camera: the buffer is the unmirrored sensor picture, the preview is mirrored.
    let mirrored: Bool
}

/// The camera: an AVCaptureSession on the front or back wide-angle camera, handing 32BGRA buffers in the sensor's own
/// orientation to `onFrame` with the turn that makes them upright, dropping frames while one is being processed
/// (alwaysDiscardsLateVideoFrames). The buffers are never turned or mirrored by AVFoundation: PoseCore turns them
/// (`Orientation`), so the camera's intrinsic matrix stays in the buffer's pixels.
final class CameraFeed: NSObject, AVCaptureVideoDataOutputSampleBufferDelegate {
    let session = AVCaptureSession()
    private let output = AVCaptureVideoDataOutput()
    private var onFrame: ((CVPixelBuffer, CMTime, CameraFrameInfo) -> Void)?
    private(set) var position = AVCaptureDevice.Position.back
    /// Whether AVFoundation delivers the intrinsic matrix with every buffer on this camera.
    private(set) var deliversIntrinsics = false
    private weak var previewLayer: AVCaptureVideoPreviewLayer?
    /// iOS 17: AVCaptureDevice.RotationCoordinator (kept as NSObject so the class builds for iOS 16).
    private var rotationCoordinator: NSObject?
    private var previewObservation: NSKeyValueObservation?
    private var captureObservation: NSKeyValueObservation?
    /// The interface's turn (set on the main thread by `interfaceOrientationChanged`, read on the frame queue): the
    /// capture turn on iOS 16, and on iOS 17 until the RotationCoordinator of the current camera has reported.
    private let lock = NSLock()
    private var interfaceDegrees = 90
    /// iOS 17: the current camera's horizon-level PREVIEW angle in degrees, cached from its KVO (delivered on main).
    /// The overlay is drawn over the preview, so the frame is turned as the preview is; with rotation lock on, the
    /// capture angle follows gravity while the preview and the UI do not.
    private var captureAngle: Int?
    /// iOS 17: the angle the video output's connection delivers buffers at (0, or 180 on some front cameras): the
    /// frame's turn is the preview angle minus this.
    private var deliveredAngle = 0
    private var lastInterfaceOrientation: UIInterfaceOrientation?  // main thread only

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

    /// The wide-angle camera at `position`, found with AVCaptureDevice.DiscoverySession; nil when the phone has none.
    static func camera(at position: AVCaptureDevice.Position) -> AVCaptureDevice? {
        AVCaptureDevice.DiscoverySession(deviceTypes: [.builtInWideAngleCamera], mediaType: .video, position: position)
            .devices.first
    }

    /// Which positions this phone has a camera at (the UI offers switching only when both exist).
    static var availablePositions: [AVCaptureDevice.Position] {
        [.back, .front].filter { camera(at: $0) != nil }
    }

    /// The preview shows the session; on iOS 17 the RotationCoordinator also turns the preview.
    func attach(previewLayer: AVCaptureVideoPreviewLayer) {
        self.previewLayer = previewLayer
        previewLayer.session = session
    }

    /// Starts the session on `position`, or switches the running session to it (one configuration transaction, the
    /// old input removed, the output kept). Call on `queue`; throws a one-line message the app shows.
    func start(
        position: AVCaptureDevice.Position, queue: DispatchQueue,
        onFrame: @escaping (CVPixelBuffer, CMTime, CameraFrameInfo) -> Void
    ) throws {
        guard let camera = CameraFeed.camera(at: position) else {
            throw AppError("This device has no \(position == .front ? "front" : "back") camera.")
        }
        let input = try AVCaptureDeviceInput(device: camera)
        session.beginConfiguration()
        let previous = session.inputs
        previous.forEach { session.removeInput($0) }
        if session.canSetSessionPreset(.hd1280x720) {
            session.sessionPreset = .hd1280x720
        }
        guard session.canAddInput(input) else {
            previous.forEach { if session.canAddInput($0) { session.addInput($0) } }  // keep the camera that worked
            session.commitConfiguration()
            throw AppError("The \(position == .front ? "front" : "back") camera cannot stream video here.")
        }
        session.addInput(input)
        if !session.outputs.contains(output) {
            guard session.canAddOutput(output) else {
                session.commitConfiguration()
                throw AppError("The camera cannot deliver video frames to the app here.")
            }
            output.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_32BGRA]
            output.alwaysDiscardsLateVideoFrames = true
            output.setSampleBufferDelegate(self, queue: queue)
            session.addOutput(output)
        }
        var intrinsics = false
        var delivered = 0
        if let connection = output.connection(with: .video) {
            CameraFeed.unmirror(connection)
            if #available(iOS 17.0, *), connection.videoRotationAngle.isFinite {
                delivered = ((Int((connection.videoRotationAngle / 90).rounded()) * 90) % 360 + 360) % 360
            }
            // AVCaptureConnection.isCameraIntrinsicMatrixDeliveryEnabled "can only be set to true if
            // isCameraIntrinsicMatrixDeliverySupported returns true"; the matrix then rides on every sample buffer as
            // kCMSampleBufferAttachmentKey_CameraIntrinsicMatrix.
            if connection.isCameraIntrinsicMatrixDeliverySupported {
                connection.isCameraIntrinsicMatrixDeliveryEnabled = true
                intrinsics = true
            }
        }
        session.commitConfiguration()
        deliversIntrinsics = intrinsics
        self.position = position
        self.onFrame = onFrame
        lock.lock()
        captureAngle = nil  // the previous camera's angle no longer applies
        deliveredAngle = delivered
        lock.unlock()
        coordinateRotation(camera)
        DispatchQueue.main.async { [weak self] in  // the new input's preview connection takes the current orientation
            if let self = self, let orientation = self.lastInterfaceOrientation {
                self.interfaceOrientationChanged(orientation)
            }
        }
        if !session.isRunning {
            session.startRunning()  // blocking: the caller is on the camera queue, not the main thread
        }
    }

    /// The buffers stay unmirrored for both cameras (the pipeline sees the scene as it is; the overlay mirrors for the
    /// front camera). AVCaptureConnection raises an Objective-C exception, which Swift cannot catch, when
    /// `isVideoMirrored` is set while `automaticallyAdjustsVideoMirroring` is true (its default), and mirroring may
    /// only be set where `isVideoMirroringSupported`; so: supported first, automatic off, then mirrored off.
    static func unmirror(_ connection: AVCaptureConnection) {
        guard connection.isVideoMirroringSupported else {
            return
        }
        connection.automaticallyAdjustsVideoMirroring = false
        connection.isVideoMirrored = false
    }

    /// iOS 17: AVCaptureDevice.RotationCoordinator gives the horizon-level capture angle (clockwise degrees to turn
    /// the buffer upright) and the preview angle, which is applied to the preview layer's connection as it changes.
    private func coordinateRotation(_ camera: AVCaptureDevice) {
        guard #available(iOS 17.0, *) else {
            return
        }
        let layer = previewLayer
        DispatchQueue.main.async { [weak self] in
            guard let self = self else {
                return
            }
            let coordinator = AVCaptureDevice.RotationCoordinator(device: camera, previewLayer: layer)
            self.lock.lock()
            self.rotationCoordinator = coordinator
            self.lock.unlock()
            // KVO of the coordinator's angles is delivered on the main queue: cache the preview angle for the frame queue
            self.captureObservation = coordinator.observe(\.videoRotationAngleForHorizonLevelPreview, options: [.initial, .new]) {
                [weak self] coordinator, _ in
                let angle = coordinator.videoRotationAngleForHorizonLevelPreview
                self?.lock.lock()
                self?.captureAngle = angle.isFinite ? ((Int((angle / 90).rounded()) * 90) % 360 + 360) % 360 : nil
                self?.lock.unlock()
            }
            self.previewObservation = coordinator.observe(\.videoRotationAngleForHorizonLevelPreview, options: [.initial, .new]) {
                [weak layer] coordinator, _ in
                let angle = coordinator.videoRotationAngleForHorizonLevelPreview
                if let connection = layer?.connection, connection.isVideoRotationAngleSupported(angle) {
                    CameraPreview.withoutAnimation {  // the preview's turn is geometry too: no implicit animation
                        connection.videoRotationAngle = angle
                    }
                }
            }
        }
    }

    /// iOS 16 (no RotationCoordinator): the UI turns with the phone, so the capture turn follows the interface
    /// orientation; the preview layer's connection gets the matching videoOrientation. Main thread.
    func interfaceOrientationChanged(_ orientation: UIInterfaceOrientation) {
        lastInterfaceOrientation = orientation
        let (degrees, video): (Int, AVCaptureVideoOrientation)
        switch orientation {
        case .landscapeRight: (degrees, video) = (0, .landscapeRight)
        case .portraitUpsideDown: (degrees, video) = (270, .portraitUpsideDown)
        case .landscapeLeft: (degrees, video) = (180, .landscapeLeft)
        default: (degrees, video) = (90, .portrait)
        }
        lock.lock()
        interfaceDegrees = degrees  // the front camera's swap is applied where the frame is read (rotationDegrees)
        lock.unlock()
        if #available(iOS 17.0, *) {
            return  // the RotationCoordinator turns the preview
        }
        if let connection = previewLayer?.connection, connection.isVideoOrientationSupported {
            CameraPreview.withoutAnimation {  // the preview's turn is geometry too: no implicit animation
                connection.videoOrientation = video
            }
        }
    }

    /// The clockwise turn that makes the current buffer upright, a multiple of 90. On the frame queue, where `start`
    /// also sets `position`.
    private func rotationDegrees() -> Int {
        lock.lock()
        defer { lock.unlock() }
        if let angle = captureAngle {
            return ((angle - deliveredAngle) % 360 + 360) % 360
        }
        // the front sensor is turned the other way round: its landscape turns swap
        let degrees = interfaceDegrees
        return position == .front && degrees % 180 == 0 ? (degrees + 180) % 360 : degrees
    }

    func stop() {
        session.stopRunning()
    }

    func captureOutput(_ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer, from connection: AVCaptureConnection) {
        guard let buffer = CMSampleBufferGetImageBuffer(sampleBuffer) else {
            return
        }
        let info = CameraFrameInfo(
            rotationDegrees: rotationDegrees(), bufferIntrinsics: CameraFeed.intrinsicMatrix(sampleBuffer),
            mirrored: position == .front
        )
        onFrame?(buffer, CMSampleBufferGetPresentationTimeStamp(sampleBuffer), info)
    }

    /// kCMSampleBufferAttachmentKey_CameraIntrinsicMatrix: a CFData holding a column-major matrix_float3x3
    /// (fx 0 ox / 0 fy oy / 0 0 1, in the buffer's pixels); nil when absent or not that size.
    static func intrinsicMatrix(_ sampleBuffer: CMSampleBuffer) -> simd_float3x3? {
        guard let data = CMGetAttachment(
            sampleBuffer, key: kCMSampleBufferAttachmentKey_CameraIntrinsicMatrix, attachmentModeOut: nil
        ) as? Data, data.count >= MemoryLayout<simd_float3x3>.size else {
            return nil
        }
        return data.withUnsafeBytes { $0.loadUnaligned(as: simd_float3x3.self) }
    }
}
