"""Multi-digit codes (a parcel's postcode, a shelf label) built from real handwriting.

A code reader is a pipeline: find where each digit is (segmentation), cut
it out and normalise it the way the training digits were normalised, then
classify each digit.  This module composes codes from scikit-learn's 8x8
handwritten digits with random gaps, vertical jitter and noise, and
provides the two classical steps around the classifier: splitting a code
at empty columns, and centring each cut-out digit.  The classifier itself
is trained in the chapter.
"""

from __future__ import annotations

import numpy as np

from visionbook import checks

DIGIT = 8  #: side of one scikit-learn digit, in pixels

#: Pixels at or above this value count as ink when segmenting and centring.
INK = 0.25

#: How far (pixels) neighbouring digit boxes may overlap: a negative gap
#: makes digits touch, as in joined handwriting, without hiding one digit.
MAX_OVERLAP = DIGIT // 4


def _digit_stack(images: object, argument: str = "images") -> np.ndarray:
    array = checks.as_numeric_array(images, argument, allow_empty=True).astype(np.float32)
    if array.ndim != 3 or array.shape[1:] != (DIGIT, DIGIT):
        fix = "pass image[None] for one digit" if array.shape == (DIGIT, DIGIT) else (
            "use visionbook.data.load_digits_images()"
        )
        raise ValueError(f"{argument} must be 8x8 digit images as (n, 8, 8), got shape {array.shape}: {fix}.")
    if array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise ValueError(
            f"{argument} must lie in [0, 1], got [{array.min():.3g}, {array.max():.3g}]; "
            "scikit-learn's raw digits are 0..16 (divide by 16), 8-bit images 0..255 (divide by 255)."
        )
    return array


def _check_ink(ink: object) -> float:
    return checks.check_number(ink, "ink", low=0.0, high=1.0, low_open=True)


def _canvas(canvas: object) -> np.ndarray:
    """One code image: 2-D, values in [0, 1]."""
    return checks.as_unit_image(canvas, "canvas", ndim=2).astype(np.float32)


#: The largest frame :func:`center_digit` and :func:`cut_digits` make, in pixels.
MAX_SIZE = 1024


def min_code_width(length: int, max_gap: int) -> int:
    """The narrowest canvas that holds ``length`` digits with gaps up to ``max_gap``."""
    length = checks.check_positive_int(length, "length")
    max_gap = checks.check_positive_int(max_gap, "max_gap", minimum=-MAX_OVERLAP)
    return length * DIGIT + (length - 1) * max_gap


def center_digit(image: object, size: int = DIGIT, ink: float = INK) -> np.ndarray:
    """Move the ink of one digit to the centre of a ``size`` x ``size`` frame.

    Training digits and digits cut from a code are both passed through this,
    so the classifier sees the same framing in training and in use.  Ink
    wider or taller than the frame is shrunk to fit (keeping its aspect).
    An image without ink comes back as an empty frame.
    """
    array = checks.as_unit_image(image, "image", fix="divide by 16 (scikit-learn's digits) or 255").astype(np.float32)
    if array.ndim != 2:
        raise ValueError(f"image must be one 2-D digit, got shape {array.shape}: use center_digits for a stack.")
    size = checks.check_positive_int(size, "size", minimum=4, maximum=MAX_SIZE)
    ink = _check_ink(ink)
    frame = np.zeros((size, size), np.float32)
    rows = np.flatnonzero((array >= ink).any(axis=1))
    cols = np.flatnonzero((array >= ink).any(axis=0))
    if rows.size == 0:
        return frame
    ink_box = array[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    if max(ink_box.shape) > size:
        from skimage.transform import resize

        scale = size / max(ink_box.shape)
        shape = tuple(max(1, round(s * scale)) for s in ink_box.shape)
        ink_box = resize(ink_box, shape, anti_aliasing=True).astype(np.float32)
    top = (size - ink_box.shape[0]) // 2
    left = (size - ink_box.shape[1]) // 2
    frame[top : top + ink_box.shape[0], left : left + ink_box.shape[1]] = ink_box
    return frame


def center_digits(images: object) -> np.ndarray:
    """:func:`center_digit` applied to each image of ``(n, 8, 8)``."""
    stack = _digit_stack(images)
    return np.stack([center_digit(image) for image in stack]) if len(stack) else stack.copy()


def compose_codes(
    images: object,
    labels: object,
    count: int,
    length: int,
    *,
    width: int = 64,
    height: int = 12,
    gap: tuple[int, int] = (1, 3),
    jitter: int = 2,
    noise: float = 0.03,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Compose ``count`` codes of ``length`` digits drawn from ``images``.

    Each code is a ``height`` x ``width`` canvas: digits placed left to
    right with a random gap of ``gap[0]..gap[1]`` pixels between their 8x8
    boxes (a negative gap overlaps the boxes, and the digits may touch;
    overlapping ink keeps the darker value), each shifted up or down by up to ``jitter`` pixels, the whole
    code at a random horizontal offset, plus Gaussian noise of standard
    deviation ``noise``.  Digits are drawn with replacement from the pool
    given, so pass held-out digits to build test codes.  Returns float32
    canvases ``(count, height, width)`` in [0, 1] and the true digits
    ``(count, length)``.
    """
    pool = _digit_stack(images)
    if len(pool) == 0:
        raise ValueError("images is empty: pass at least one digit to compose codes from.")
    pool_labels = checks.as_class_indices(labels, 10, "labels")
    if pool_labels.shape != (len(pool),):
        raise ValueError(f"labels must hold one digit per image: {pool_labels.shape} for {len(pool)} images.")
    length = checks.check_positive_int(length, "length")
    width = checks.check_positive_int(width, "width")
    height = checks.check_positive_int(height, "height")
    count = checks.check_count(count, "count", item_bytes=4 * height * width + 8 * length, minimum=0, what="codes")
    if isinstance(gap, (str, bytes)) or not isinstance(gap, (tuple, list, np.ndarray)) or len(gap) != 2:
        raise ValueError(f"gap must be a pair (min, max) of pixel counts, got {gap!r}.")
    low = checks.check_positive_int(gap[0], "gap[0] (min)", minimum=-MAX_OVERLAP)
    high = checks.check_positive_int(gap[1], "gap[1] (max)", minimum=-MAX_OVERLAP)
    if not -MAX_OVERLAP <= low <= high:
        raise ValueError(
            f"gap must be (min, max) pixels with -{MAX_OVERLAP} <= min <= max, got {gap!r}: "
            f"a negative gap overlaps neighbouring 8x8 boxes, by at most {MAX_OVERLAP} pixels."
        )
    jitter = checks.check_positive_int(jitter, "jitter", minimum=0)
    noise = checks.check_number(noise, "noise", low=0.0, high=1.0, fix="a standard deviation of pixel values in [0, 1]")
    seed = checks.check_seed(seed)
    if height < DIGIT + 2 * jitter:
        raise ValueError(
            f"height {height} cannot hold an 8-pixel digit moved up or down by {jitter}: "
            f"pass height >= {DIGIT + 2 * jitter} or a smaller jitter."
        )
    needed = min_code_width(length, high)
    if width < needed:
        raise ValueError(
            f"a code of {length} digits with gaps up to {high} pixels needs a canvas at least "
            f"{needed} pixels wide, but width is {width}: pass width={needed} or more, "
            "a shorter length, or smaller gaps."
        )
    rng = np.random.default_rng(seed)
    canvases = np.zeros((count, height, width), np.float32)
    codes = np.zeros((count, length), np.int64)
    for i in range(count):
        picks = rng.integers(len(pool), size=length)
        gaps = rng.integers(low, high + 1, size=length - 1)
        used = length * DIGIT + int(gaps.sum())
        left = int(rng.integers(0, width - used + 1))
        for j, pick in enumerate(picks):
            top = height // 2 - DIGIT // 2 + int(rng.integers(-jitter, jitter + 1))
            box = canvases[i, top : top + DIGIT, left : left + DIGIT]
            np.maximum(box, pool[pick], out=box)
            left += DIGIT + (int(gaps[j]) if j < length - 1 else 0)
        codes[i] = pool_labels[picks]
    if noise:
        canvases += rng.normal(0.0, noise, canvases.shape).astype(np.float32)
    return np.clip(canvases, 0.0, 1.0), codes


def column_profile(canvas: object, ink: float = INK) -> np.ndarray:
    """How many ink pixels each column of a code holds (the projection)."""
    array = _canvas(canvas)
    return (array >= _check_ink(ink)).sum(axis=0)


def segment_code(canvas: object, expected: int | None = None, ink: float = INK) -> list[tuple[int, int]]:
    """Split a code into digits at empty columns; return ``[(start, stop), ...]``.

    Columns with no ink separate digits.  A digit can contain an empty
    column of its own (a broken stroke), and two digits can touch; when
    the number of digits is known (``expected``, as for a fixed-length
    postcode), the narrowest neighbouring pieces are merged, or the widest
    piece is cut at its thinnest column, until the count matches.
    """
    profile = column_profile(canvas, ink)
    if expected is not None:
        expected = checks.check_positive_int(expected, "expected")
    inked = np.concatenate([[False], profile > 0, [False]])
    edges = np.flatnonzero(np.diff(inked.astype(np.int8)))
    spans = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]
    if expected is None or not spans:
        return spans
    while len(spans) > expected:
        widths = [spans[k + 1][1] - spans[k][0] for k in range(len(spans) - 1)]
        k = int(np.argmin(widths))
        spans[k : k + 2] = [(spans[k][0], spans[k + 1][1])]
    while len(spans) < expected:
        k = int(np.argmax([b - a for a, b in spans]))
        start, stop = spans[k]
        if stop - start < 2:
            break
        inner = profile[start + 1 : stop - 1]
        middle = np.abs(np.arange(start + 1, stop - 1) - (start + stop) / 2)
        cut = start + 1 + int(np.lexsort((middle, inner))[0]) if inner.size else (start + stop) // 2
        spans[k : k + 1] = [(start, cut), (cut, stop)]
    return spans


def cut_digits(canvas: object, spans: list[tuple[int, int]], size: int = DIGIT) -> np.ndarray:
    """Cut each span out of a code and centre it (:func:`center_digit`)."""
    array = _canvas(canvas)
    size = checks.check_positive_int(size, "size", minimum=4, maximum=MAX_SIZE)
    if isinstance(spans, (str, bytes)) or not isinstance(spans, (list, tuple, np.ndarray)):
        raise TypeError(f"spans must be a list of (start, stop) column pairs, such as segment_code returns; got {spans!r}.")
    for i, span in enumerate(spans):
        if isinstance(span, (str, bytes)) or not isinstance(span, (list, tuple, np.ndarray)) or len(span) != 2:
            raise ValueError(f"spans[{i}] must be a pair (start, stop), got {span!r}.")
        start = checks.check_positive_int(span[0], f"spans[{i}][0] (start)", minimum=0)
        stop = checks.check_positive_int(span[1], f"spans[{i}][1] (stop)", minimum=0)
        if not 0 <= start < stop <= array.shape[1]:
            raise ValueError(f"spans[{i}] = ({start}, {stop}) does not fit a canvas {array.shape[1]} pixels wide.")
    if not spans:
        return np.zeros((0, size, size), np.float32)
    return np.stack([center_digit(array[:, start:stop], size) for start, stop in spans])
