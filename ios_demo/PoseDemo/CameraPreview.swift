import AVFoundation
import SwiftUI

/// The live camera picture, filling the view and centred (resizeAspectFill, which ViewFit mirrors). The preview layer
/// mirrors the front camera itself (its connection keeps automaticallyAdjustsVideoMirroring); its rotation follows the
/// phone: iOS 17 through CameraFeed's RotationCoordinator, iOS 16 through the interface orientation.
struct CameraPreview: UIViewRepresentable {
    let feed: CameraFeed

    final class PreviewView: UIView {
        let preview = AVCaptureVideoPreviewLayer()
        var feed: CameraFeed?

        override init(frame: CGRect) {
            super.init(frame: frame)
            layer.addSublayer(preview)
        }

        required init?(coder: NSCoder) {
            super.init(coder: coder)
            layer.addSublayer(preview)
        }

        override func layoutSubviews() {
            super.layoutSubviews()
            preview.frame = bounds
            if let orientation = window?.windowScene?.interfaceOrientation {
                feed?.interfaceOrientationChanged(orientation)
            }
        }
    }

    func makeUIView(context: Context) -> PreviewView {
        let view = PreviewView()
        view.feed = feed
        view.preview.videoGravity = .resizeAspectFill
        feed.attach(previewLayer: view.preview)
        return view
    }

    func updateUIView(_ view: PreviewView, context: Context) {}
}
