"""Part IV helpers: the data and classical steps around a recognition model.

- :mod:`visionbook.apps.codes`: multi-digit codes composed from real
  handwritten digits, split into digits and normalised (logistics);
- :mod:`visionbook.apps.signs`: traffic-sign-like images drawn with the
  nuisances a camera adds (driving);
- :mod:`visionbook.apps.cells`: stain separation, a nuclei detector, hand-marked
  nuclei and stain-labelled tissue patches of a bundled microscope image
  (medicine).

Nothing here trains a model: the chapter does that through
:mod:`visionbook.store`, and this package stays free of Keras.
"""

from visionbook.apps import cells, codes, signs

__all__ = ["cells", "codes", "signs"]
