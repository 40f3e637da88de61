"""Cells and tissue in scikit-image's bundled immunohistochemistry image.

``skimage.data.immunohistochemistry()`` is a 512x512 colour photograph of a
stained section of colonic glands (scikit-image's documentation): the
counterstain hematoxylin colours every nucleus blue; DAB, the brown product
of the antibody reaction, shows where the protein FHL2 is expressed, here
in the glands' lining (epithelium).  Colour deconvolution
(:func:`skimage.color.rgb2hed`) separates the two stains into their own
channels.

The module holds the classical steps and the reference data of the
chapter: stain channels, a nuclei detector, matching detections to marked
nuclei, and patches of tissue labelled by a rule on the brown stain.

:data:`MARKED_NUCLEI` were marked by eye, once, by one person, on an
enlarged view of :data:`MARKED_REGION` (a stretch of stroma, the tissue
between the glands), before any detector was run on it; faint or doubtful
nuclei are listed apart in :data:`UNSURE_NUCLEI`.  A reference from one
reader, without a second opinion, is a weak one: treat scores against it as
rough.
"""

from __future__ import annotations

import numpy as np

from visionbook import checks, data

#: The marked region, as ``(row_start, row_stop, col_start, col_stop)``.
MARKED_REGION: tuple[int, int, int, int] = (330, 500, 168, 250)

#: Centres ``(row, col)`` of the nuclei marked by eye in :data:`MARKED_REGION`.
MARKED_NUCLEI = np.array(
    [
        [335, 205], [359, 189], [381, 196], [356, 222], [380, 225], [391, 227],
        [395, 238], [392, 180], [397, 218], [405, 184], [416, 186], [426, 173],
        [428, 214], [451, 193], [445, 203], [463, 181], [467, 213], [475, 207],
        [450, 242], [476, 244], [491, 241], [495, 210],
    ],
    dtype=float,
)

#: Faint spots the marker could not decide on; detections there count neither way.
UNSURE_NUCLEI = np.array([[381, 208], [444, 178]], dtype=float)

#: Optical densities from ``rgb2hed`` are divided by these and clipped to
#: [0, 1], which puts this image's strongly stained pixels near 1.
HEMATOXYLIN_SCALE = 0.08
DAB_SCALE = 0.25

#: A pixel counts as brown (DAB-positive) at or above this scaled density:
#: Otsu's threshold of this image's DAB channel (0.062 before scaling), rounded.
DAB_POSITIVE = 0.25


def load_ihc() -> np.ndarray:
    """The bundled immunohistochemistry image, uint8 ``(512, 512, 3)``."""
    import skimage.data

    return np.asarray(skimage.data.immunohistochemistry())


def stain_channels(rgb: object) -> tuple[np.ndarray, np.ndarray]:
    """Separate hematoxylin (nuclei) and DAB (brown) by colour deconvolution.

    Returns two float32 images in [0, 1], ``(hematoxylin, dab)``.  Stains
    absorb light, so the method works on optical density (the logarithm of
    the light lost) and unmixes it with the stains' known colours; the
    separation is good but not perfect, and a little of each stain leaks
    into the other's channel.
    """
    from skimage.color import rgb2hed

    array = checks.as_numeric_array(rgb, "rgb")
    if array.ndim != 3 or array.shape[-1] != 3:
        fix = (
            "the channel axis comes first: move it last with np.moveaxis(rgb, 0, -1)"
            if array.ndim == 3 and array.shape[0] == 3 else
            "drop the alpha channel, rgb[..., :3]" if array.ndim == 3 and array.shape[-1] == 4 else
            "stain separation needs the colours" if array.ndim == 2 else "pass one image"
        )
        raise ValueError(f"rgb must be a colour image (h, w, 3), got shape {array.shape}: {fix}.")
    # uint8 0..255 or floats in [0, 1]: anything else (floats in 0..255) would
    # come out as an all-zero channel without a word.
    data.to_unit_range(array, argument="rgb")
    if array.dtype.kind in "iub" and array.dtype != np.uint8:
        array = array.astype(np.uint8)  # other integer types would be scaled by their own maximum
    hed = rgb2hed(array)
    hematoxylin = np.clip(hed[..., 0] / HEMATOXYLIN_SCALE, 0.0, 1.0).astype(np.float32)
    dab = np.clip(hed[..., 2] / DAB_SCALE, 0.0, 1.0).astype(np.float32)
    return hematoxylin, dab


def detect_nuclei(
    hematoxylin: object,
    *,
    sigma: float = 1.0,
    threshold: float | None = None,
    min_area: int = 20,
    min_distance: int = 6,
) -> np.ndarray:
    """Find nuclei in a hematoxylin channel; return their centres ``(n, 2)`` as (row, col).

    The classical recipe: smooth (``sigma``), threshold (Otsu's when
    ``threshold`` is None), split touching nuclei with a watershed on the
    distance to the background (seeds at least ``min_distance`` pixels
    apart), and drop pieces smaller than ``min_area`` pixels.
    """
    from scipy import ndimage
    from skimage import feature, filters, measure, segmentation

    channel = _channel(hematoxylin, "hematoxylin")
    sigma = checks.check_number(sigma, "sigma", low=0.0, high=100.0)
    if threshold is not None:
        threshold = checks.check_number(threshold, "threshold", low=0.0, high=1.0, fix="the channel lies in [0, 1]")
    min_area = checks.check_positive_int(min_area, "min_area")
    min_distance = checks.check_positive_int(min_distance, "min_distance")
    smooth = filters.gaussian(channel, sigma) if sigma > 0 else channel
    level = filters.threshold_otsu(smooth) if threshold is None else threshold
    mask = smooth > level
    distance = ndimage.distance_transform_edt(mask)
    peaks = feature.peak_local_max(
        distance, min_distance=min_distance, labels=measure.label(mask), exclude_border=False
    )
    markers = np.zeros(mask.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    regions = segmentation.watershed(-distance, markers, mask=mask)
    centres = [r.centroid for r in measure.regionprops(regions) if r.area >= min_area]
    return np.array(centres, dtype=float).reshape(-1, 2)


def _channel(values: object, argument: str) -> np.ndarray:
    """One stain channel: 2-D, float, in [0, 1] (as :func:`stain_channels` returns)."""
    return checks.as_unit_image(
        values, argument, ndim=2, fix="pass a channel from stain_channels(), or divide 8-bit values by 255"
    ).astype(np.float32)


def _points(points: object, argument: str) -> np.ndarray:
    array = checks.as_numeric_array(points, argument, allow_empty=True).astype(float)
    if array.size == 0:
        return np.zeros((0, 2))
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{argument} must be (n, 2) points as (row, col), got shape {array.shape}.")
    return array


def in_region(points: object, region: tuple[int, int, int, int] = MARKED_REGION) -> np.ndarray:
    """The points that lie inside ``region`` = (row_start, row_stop, col_start, col_stop)."""
    array = _points(points, "points")
    if isinstance(region, (str, bytes)) or not isinstance(region, (tuple, list, np.ndarray)) or len(region) != 4:
        raise ValueError(f"region must be (row_start, row_stop, col_start, col_stop), got {region!r}.")
    r0, r1, c0, c1 = (checks.check_number(v, f"region[{i}]") for i, v in enumerate(region))
    if not (r0 < r1 and c0 < c1):
        raise ValueError(f"region must be (row_start, row_stop, col_start, col_stop) with start < stop, got {region}.")
    inside = (array[:, 0] >= r0) & (array[:, 0] < r1) & (array[:, 1] >= c0) & (array[:, 1] < c1)
    return array[inside]


def match_points(
    predicted: object, reference: object, *, radius: float = 6.0, ignore: object = None
) -> dict[str, float]:
    """Score detections against reference points, one-to-one within ``radius`` pixels.

    Pairs are chosen to maximise matches (Hungarian assignment), so one
    detection never claims two nuclei.  Unmatched detections within
    ``radius`` of an ``ignore`` point (a doubtful nucleus) are not counted
    as false.  Returns counts (true positives, false positives, false
    negatives) and precision, recall and F1.
    """
    from scipy.optimize import linear_sum_assignment

    pred = _points(predicted, "predicted")
    ref = _points(reference, "reference")
    unsure = _points(ignore if ignore is not None else [], "ignore")
    radius = checks.check_number(radius, "radius", low=0.0, low_open=True, fix="a distance in pixels")
    matched = np.zeros(len(pred), bool)
    if len(pred) and len(ref):
        distance = np.linalg.norm(pred[:, None] - ref[None], axis=-1)
        cost = np.where(distance <= radius, distance, 1e9)
        rows, cols = linear_sum_assignment(cost)
        matched[rows[cost[rows, cols] <= radius]] = True
    tp = int(matched.sum())
    spare = pred[~matched]
    if len(spare) and len(unsure):
        near = np.linalg.norm(spare[:, None] - unsure[None], axis=-1).min(axis=1) <= radius
        spare = spare[~near]
    fp, fn = len(spare), len(ref) - tp
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / len(ref) if len(ref) else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def tissue_patches(
    channel: object,
    dab: object,
    *,
    patch: int = 32,
    stride: int = 8,
    block: int = 128,
    positive_share: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut ``channel`` into patches labelled by the brown stain; keep their block.

    The image is divided into ``block`` x ``block`` squares and patches are
    cut inside each square only, so no patch straddles two squares: a
    split by square keeps overlapping patches on one side.  A patch is
    labelled 1 (stained) when at least ``positive_share`` of its pixels in
    ``dab`` reach :data:`DAB_POSITIVE`, else 0.  Returns float32 patches
    ``(n, patch, patch)``, int64 labels ``(n,)`` and each patch's block
    ``(n, 2)`` as (block_row, block_col).
    """
    from numpy.lib.stride_tricks import sliding_window_view

    image = _channel(channel, "channel")
    stain = _channel(dab, "dab")
    if image.shape != stain.shape:
        raise ValueError(
            f"channel and dab must be 2-D images of one shape, got {image.shape} and {stain.shape}."
        )
    patch, stride, block = (
        checks.check_positive_int(value, name) for name, value in (("patch", patch), ("stride", stride), ("block", block))
    )
    if patch > block:
        raise ValueError(f"patch ({patch}) must fit in a block ({block}): pass a smaller patch or a larger block.")
    if block > min(image.shape):
        raise ValueError(f"block ({block}) is larger than the image {image.shape}: pass block <= {min(image.shape)}.")
    checks.check_number(positive_share, "positive_share", low=0.0, high=1.0, low_open=True)
    positive = stain >= DAB_POSITIVE
    patches, labels, blocks = [], [], []
    for by in range(image.shape[0] // block):
        for bx in range(image.shape[1] // block):
            window = np.s_[by * block : (by + 1) * block, bx * block : (bx + 1) * block]
            cut = sliding_window_view(image[window], (patch, patch))[::stride, ::stride]
            share = sliding_window_view(positive[window], (patch, patch))[::stride, ::stride].mean(axis=(-2, -1))
            patches.append(cut.reshape(-1, patch, patch))
            labels.append((share.ravel() >= positive_share).astype(np.int64))
            blocks.append(np.tile([by, bx], (share.size, 1)))
    return np.concatenate(patches), np.concatenate(labels), np.concatenate(blocks)
