import AVFoundation
import Foundation
import PoseCore

/// The app's state: the bundled models, the chosen artifact and runtime, the latest processed frame, the benchmark.
@MainActor
final class PoseSession: ObservableObject {
    @Published private(set) var models: [BundledModel] = []
    @Published private(set) var message: String?
    @Published private(set) var result: FrameResult?
    @Published private(set) var benchmark: BenchmarkState = .idle
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

    var selected: BundledModel? { models.first { $0.id == modelId } }

    var choices: [RuntimeChoice] { selected.map { RuntimeChoice.choices(forFormat: $0.manifest.format) } ?? [] }

    var mirrored: Bool { camera.position == .front }

    func start() async {
        do {
            models = try ModelAssets.bundled()
            try await CameraFeed.requestAccess()
            try camera.start(position: .back, queue: worker.queue, onFrame: PoseSession.frameHandler(worker, self))
            modelId = models.first?.id
        } catch {
            message = error.localizedDescription
        }
    }

    /// Built outside the main actor: the camera calls it on the worker's queue.
    private nonisolated static func frameHandler(_ worker: FrameWorker, _ session: PoseSession) -> (CVPixelBuffer, CMTime) -> Void {
        { [weak session] buffer, time in
            guard let outcome = worker.process(buffer, time) else {
                return
            }
            Task { @MainActor [weak session] in session?.show(outcome) }
        }
    }

    private func show(_ outcome: Result<FrameResult, Error>) {
        switch outcome {
        case let .success(frame):
            result = frame
        case let .failure(error):
            message = error.localizedDescription
        }
    }

    /// Loads the chosen artifact with the chosen runtime, and the person detector, on the worker's queue; a failure
    /// becomes the message.
    private func reload() {
        guard let model = selected, let choice = choice else {
            return
        }
        let fov = camera.longSideFovDegrees
        let worker = self.worker
        worker.queue.async {
            // the detector runs on the CPU beside any runtime: the chosen XNNPACK threads, else two
            let (detector, note) = ModelLoader.detector(threads: choice.benchThreads ?? 2)
            let outcome = Result { try ModelLoader.pipeline(for: model, choice: choice, longSideFovDegrees: fov, detector: detector) }
            worker.install(try? outcome.get())
            Task { @MainActor [weak self] in self?.loaded(outcome, note: note) }
        }
    }

    /// `note`: why the pipeline runs without the person detector, shown until the next load.
    private func loaded(_ outcome: Result<FramePipeline, Error>, note: String?) {
        result = nil
        switch outcome {
        case .success:
            message = note
        case let .failure(error):
            message = error.localizedDescription
        }
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
