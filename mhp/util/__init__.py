"""Infrastructure every stage shares: atomic file writing and JSON reading (``fileio``), optional heavy imports
with the extra to install (``optional``) and the bounded image reader (``image_file``)."""
