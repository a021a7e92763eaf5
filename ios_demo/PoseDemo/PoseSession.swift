import AVFoundation
import Foundation
import PoseCore

/// The app's state: the bundled models, the chosen artifact and runtime, the latest processed frame, the benchmark.
@MainActor
final class PoseSession: ObservableObject {
    @Published private(set) var models: [BundledModel] = []
    /// The red banner: the last error (a frame that failed, a model that cannot load); cleared by the next frame that
    /// succeeds, a successful load, or a tap.
    @Published private(set) var message: String?
    /// Notices that stay until the next load: no person detector, an accelerator that fell back to the CPU.
    @Published private(set) var notices: [String] = []
    @Published private(set) var result: FrameResult?
    /// "intrinsics: camera" or "intrinsics: fallback 65°", for the frame shown.
    @Published private(set) var intrinsicsNote = CameraIntrinsics.fallbackNote
    /// Front camera: the preview is mirrored, so are the overlay and the 3D view's x axis.
    @Published private(set) var mirrored = false
    @Published private(set) var position = AVCaptureDevice.Position.back
    @Published private(set) var benchmark: BenchmarkState = .idle
    /// Where the running model's ops go (DelegationReport): Core ML's compute plan, measured off the main thread,
    /// or why it is not known (LiteRT's delegates do not report it); nil while nothing is loaded.
    @Published private(set) var delegationLine: String?
    @Published var modelId: String? {
        didSet {
            let first = choices.first
            if choice == first {
                reload()
            } else {
                choice = first
            }
        }
    }
    @Published var choice: RuntimeChoice? {
        didSet {
            if choice != oldValue {
                reload()
            }
        }
    }

    let camera = CameraFeed()
    private let worker = FrameWorker()
    /// The notices of the current load (the detector's), to which a runtime fallback is added.
    private var loadNotices: [String] = []
    /// What `delegationLine` describes (or is being measured for).
    private var delegationFor: RunningModel?
    /// Counts loads, so that frames and load results of an older load do not change the delegation line.
    private var loadGeneration = 0

    var selected: BundledModel? { models.first { $0.id == modelId } }

    var choices: [RuntimeChoice] { selected.map { RuntimeChoice.choices(forFormat: $0.manifest.format) } ?? [] }

    let canSwitchCamera = CameraFeed.availablePositions.count > 1  // looked up once, not on every frame's redraw

    func start() async {
        do {
            models = try ModelAssets.bundled()
        } catch {
            message = error.localizedDescription
        }
        do {
            try await CameraFeed.requestAccess()
        } catch {
            message = error.localizedDescription
            return
        }
        startCamera(.back)
        modelId = models.first?.id
    }

    /// Front <-> back, in the running session.
    func switchCamera() {
        startCamera(position == .back ? .front : .back)
    }

    func dismissMessage() {
        message = nil
    }

    /// Configures and starts the session on the worker's queue (startRunning blocks; never on the main thread).
    private func startCamera(_ wanted: AVCaptureDevice.Position) {
        let camera = self.camera
        let worker = self.worker
        let handler = PoseSession.frameHandler(worker, self)
        worker.queue.async {
            let outcome = Result { try camera.start(position: wanted, queue: worker.queue, onFrame: handler) }
            Task { @MainActor [weak self] in self?.cameraStarted(outcome, wanted) }
        }
    }

    private func cameraStarted(_ outcome: Result<Void, Error>, _ wanted: AVCaptureDevice.Position) {
        switch outcome {
        case .success:
            position = wanted
            mirrored = wanted == .front
            result = nil
        case let .failure(error):
            message = error.localizedDescription
        }
    }

    /// Built outside the main actor: the camera calls it on the worker's queue.
    private nonisolated static func frameHandler(
        _ worker: FrameWorker, _ session: PoseSession
    ) -> (CVPixelBuffer, CMTime, CameraFrameInfo) -> Void {
        { [weak session] buffer, time, info in
            guard let processed = worker.process(buffer, time, info) else {
                return
            }
            let (outcome, notice) = processed
            Task { @MainActor [weak session] in session?.show(outcome, notice: notice) }
        }
    }

    private func show(_ outcome: Result<ShownFrame, Error>, notice: String?) {
        let wanted = loadNotices + (notice.map { [$0] } ?? [])
        if notices != wanted {
            notices = wanted
        }
        switch outcome {
        case let .success(frame):
            result = frame.result
            intrinsicsNote = frame.intrinsicsNote
            mirrored = frame.mirrored
            if frame.generation == loadGeneration {
                updateDelegation(frame.running)  // a CPU fallback at run time changes what runs
            }
            message = nil  // the error banner clears once frames go through again
        case let .failure(error):
            message = error.localizedDescription
        }
    }

    /// Loads the chosen artifact with the chosen runtime (falling back to the CPU with a notice when the accelerator
    /// fails), and the person detector, on the worker's queue; a failure becomes the message.
    private func reload() {
        guard let model = selected, let choice = choice else {
            return
        }
        loadGeneration += 1
        let generation = loadGeneration
        let worker = self.worker
        worker.queue.async { [weak worker] in
            guard let worker = worker else {
                return
            }
            // the detector runs on the CPU beside any runtime: the chosen XNNPACK threads, else two
            let (detector, note) = ModelLoader.detector(threads: choice.benchThreads ?? 2)
            let outcome = Result {
                try ModelLoader.pipeline(
                    for: model, choice: choice, intrinsicsFor: { [weak worker] width, height in
                        worker?.intrinsics(width: width, height: height) ?? CameraIntrinsics.fallback(width: width, height: height)
                    }, detector: detector)
            }
            worker.install(try? outcome.get(), generation: generation)
            let fallback = (try? outcome.get())?.1.notice
            let running = (try? outcome.get())?.1.running
            let notices = [note, fallback].compactMap { $0 }
            let failure: String? = { if case let .failure(error) = outcome { return error.localizedDescription }; return nil }()
            Task { @MainActor [weak self] in self?.loaded(failure: failure, notices: notices, running: running, generation: generation) }
        }
    }

    /// `notices`: why the pipeline runs without the person detector or on the CPU, shown until the next load.
    /// `running`: what the loaded pipeline runs on (nil when the load failed); `generation`: which load this was.
    private func loaded(failure: String?, notices: [String], running: RunningModel?, generation: Int) {
        result = nil
        loadNotices = notices
        self.notices = notices
        message = failure  // a good load clears the banner
        if generation == loadGeneration {
            updateDelegation(running)
        }
    }

    /// The delegation line for what runs now, set again only when that changes (a load, a CPU fallback): said at once
    /// for LiteRT and XNNPACK; for Core ML "measuring…" at once, then the compute plan, loaded in a detached task so
    /// the main thread never waits for it (MLComputePlan.load is async and may take a moment).
    private func updateDelegation(_ running: RunningModel?) {
        guard running != delegationFor else {
            return
        }
        delegationFor = running
        guard let running = running else {
            delegationLine = nil
            return
        }
        delegationLine = DelegationReport.pending(running.choice).line
        guard case .coreML = running.choice else {
            return
        }
        Task.detached(priority: .utility) { [weak self] in
            let report = await DelegationReport.measure(running)
            await self?.delegationMeasured(report, for: running)
        }
    }

    private func delegationMeasured(_ report: DelegationReport, for running: RunningModel) {
        guard running == delegationFor else {
            return  // another model or a CPU fallback since: its own measurement sets the line
        }
        delegationLine = report.line
    }

    /// Times every bundled artifact on every runtime, writes the file to Documents and offers it for sharing.
    func runBenchmark() {
        let models = models
        let device = DeviceInfo.device
        let app = DeviceInfo.app
        benchmark = .running("starting")
        worker.queue.async {
            let outcome = Result {
                try BenchmarkRunner(device: device, app: app).run(models) { step in
                    Task { @MainActor [weak self] in self?.benchmark = .running(step) }
                }
            }
            Task { @MainActor [weak self] in self?.finished(outcome) }
        }
    }

    private func finished(_ outcome: Result<URL, Error>) {
        switch outcome {
        case let .success(file):
            benchmark = .written(file)
        case let .failure(error):
            benchmark = .failed(error.localizedDescription)
        }
    }
}

/// Where the benchmark stands, as the UI shows it.
enum BenchmarkState {
    case idle
    case running(String)
    case written(URL)
    case failed(String)
}
