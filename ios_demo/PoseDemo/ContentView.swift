import PoseCore
import SwiftUI

/// The screen: camera with the 2D overlay, the 3D view, FPS and stage times, model and runtime pickers, benchmark.
struct ContentView: View {
    @ObservedObject var session: PoseSession
    /// The 3D view's angles, kept here: the 3D view leaves the screen on frames without a person, and the user's drag
    /// angle must survive that (double-tapping the 3D view resets it).
    @State private var orbit = Orbit.initial

    var body: some View {
        ZStack {
            CameraPreview(feed: session.camera).ignoresSafeArea()
            if let result = session.result, let skeleton = session.selected?.manifest.skeleton {
                // the detector's boxes when it ran; the skeleton only when result.person
                SkeletonOverlay(result: result, skeleton: skeleton, mirrored: session.mirrored).ignoresSafeArea()
            }
            VStack(alignment: .leading, spacing: 8) {
                if let message = session.message {
                    // cleared by the next good frame or load; a tap dismisses it
                    Text(message)
                        .font(.callout)
                        .padding(8)
                        .background(Color.red.opacity(0.85), in: RoundedRectangle(cornerRadius: 8))
                        .onTapGesture { session.dismissMessage() }
                }
                ForEach(session.notices, id: \.self) { notice in
                    Text(notice)
                        .font(.caption)
                        .padding(6)
                        .background(Color.orange.opacity(0.85), in: RoundedRectangle(cornerRadius: 8))
                }
                Spacer()
                HStack(alignment: .bottom) {
                    if let result = session.result {
                        StatsView(result: result, intrinsicsNote: session.intrinsicsNote)
                        Spacer()
                        if result.person, let pose = result.pose, let skeleton = session.selected?.manifest.skeleton {
                            Skeleton3DView(jointsRelMm: pose.jointsRelMm, skeleton: skeleton, mirrored: session.mirrored, orbit: $orbit)
                                .frame(width: 160, height: 200)
                        }
                    }
                }
                controls
            }
            .padding()
            .foregroundColor(.white)
        }
        .task { await session.start() }
    }

    private var controls: some View {
        VStack(alignment: .leading, spacing: 6) {
            HStack {
                Picker("Model", selection: $session.modelId) {
                    ForEach(session.models) { model in
                        Text(model.id).tag(Optional(model.id))
                    }
                }
                Picker("Runtime", selection: $session.choice) {
                    ForEach(session.choices) { choice in
                        Text(choice.label).tag(Optional(choice))
                    }
                }
            }
            if let delegation = session.delegationLine {
                // what runs where: Core ML's compute plan (ops on the Neural Engine / GPU vs the CPU), or why unknown
                Text(delegation).font(.caption)
            }
            HStack {
                if session.canSwitchCamera {
                    Button {
                        session.switchCamera()
                    } label: {
                        Label(session.position == .back ? "Front camera" : "Back camera", systemImage: "arrow.triangle.2.circlepath.camera")
                    }
                }
                benchmarkRow
            }
        }
        .padding(8)
        .background(Color.black.opacity(0.5), in: RoundedRectangle(cornerRadius: 8))
    }

    @ViewBuilder private var benchmarkRow: some View {
        switch session.benchmark {
        case .idle:
            Button("Run benchmark") { session.runBenchmark() }.disabled(session.models.isEmpty)
        case let .running(step):
            HStack {
                ProgressView()
                Text(step).font(.caption)
            }
        case let .written(file):
            HStack {
                ShareLink(item: file) { Label("Share \(file.lastPathComponent)", systemImage: "square.and.arrow.up") }
                Button("Again") { session.runBenchmark() }
            }
        case let .failed(reason):
            HStack {
                Text(reason).font(.caption)
                Button("Retry") { session.runBenchmark() }
            }
        }
    }
}

/// Frames per second, the per-stage milliseconds of the last frame, and the person's depth or "no person".
struct StatsView: View {
    let result: FrameResult
    /// Where the intrinsics behind the millimetres came from: the camera, or the 65 degree fallback.
    let intrinsicsNote: String

    var body: some View {
        VStack(alignment: .leading) {
            Text(String(format: "%.1f FPS", result.fps)).font(.headline)
            Text(String(
                format: "detect %.1f · crop %.1f · model %.1f · decode %.1f ms",
                result.times.detectMs, result.times.packMs, result.times.inferenceMs, result.times.decodeMs
            ))
            Text(intrinsicsNote)
            if result.person, let pose = result.pose {
                Text(String(format: "root %.2f m%@", pose.rootDepthMm / 1000, result.trackLost ? " · track reset" : ""))
            } else {
                Text("No person in view").font(.headline).foregroundColor(.yellow)
            }
        }
        .font(.caption.monospacedDigit())
        .padding(6)
        .background(Color.black.opacity(0.5), in: RoundedRectangle(cornerRadius: 6))
    }
}
