"""From a photo or a video to metric 3D joints: crops, any exported runtime, root depth, tracking, smoothing.

Nothing here imports torch unless a PyTorch checkpoint is loaded: ``pip install "mhp[runtime]"`` runs it on
``.tflite`` and ``.onnx`` artifacts.
"""
