"""``mhp-bench``: latency, memory, size and 3D accuracy of every exported format, on the host and on phones."""
