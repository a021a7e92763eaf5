"""Evaluation: the image models' protocols and prediction (``pose``), MuPoTS-3D scoring (``mupots``), the lifters'
evaluation (``lift``, ``lift_run``) and the parity gates of exported artifacts (``parity``, ``lift_parity``)."""
