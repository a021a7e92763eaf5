"""Export to ONNX, TFLite and CoreML with the preprocessing inside the artifact, manifests and parity gates.

Heavy libraries (onnx, onnx2tf, tensorflow, coremltools) are imported inside the functions that use them.
"""
