"""2D→3D lifting: the geometry and losses of training a lifter with and without 3D labels."""
