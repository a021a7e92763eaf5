import SwiftUI

/// The app: one screen with the camera, the pose overlay, the 3D view and the benchmark.
@main
struct PoseDemoApp: App {
    @StateObject private var session = PoseSession()

    var body: some Scene {
        WindowGroup {
            ContentView(session: session)
        }
    }
}
