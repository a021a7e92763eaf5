import AVFoundation
import SwiftUI
import UIKit

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
            // The preview layer is a sublayer, not the view's own layer: UIKit's rotation animation does not drive
            // it, and a frame change would run Core Animation's implicit animation (its own duration), so the picture
            // would slide and stretch out of step with the overlay. Set without actions, it snaps to the new bounds.
            CameraPreview.withoutAnimation {
                preview.frame = bounds
            }
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

    /// Layer changes with implicit actions off: CATransaction.setDisableActions(true) "sets whether actions triggered
    /// as a result of property changes made within this transaction group are suppressed" (QuartzCore).
    static func withoutAnimation(_ change: () -> Void) {
        CATransaction.begin()
        CATransaction.setDisableActions(true)
        change()
        CATransaction.commit()
    }
}
