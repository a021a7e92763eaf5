"""The input normalisation every mhp model applies to 0-255 RGB, as plain constants (no torch needed)."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Pixel scale applied to 0-255 RGB before (x - mean) / std. "legacy" is the original code's (spec 6.4,
# quirk 1: 0-255 values normalised with 0-1 ImageNet statistics); every original checkpoint expects it.
NORMALIZATIONS = {"legacy": 1.0, "unit": 1.0 / 255.0}
