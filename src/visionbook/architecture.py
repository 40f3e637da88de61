"""Is the network a chapter writes the one the package keeps?

Each chapter writes its network in cells a student can edit; later chapters,
the command line and the benchmarks use the copy in :mod:`visionbook`. The
chapter ends its network section with :func:`assert_same_architecture`, so
the two can never drift apart unnoticed: nbval runs every chapter in the
test suite, and a difference in a layer, a setting or a parameter count
fails it with a message that names the first layer that differs.
"""

from __future__ import annotations

from typing import Any

import keras

from visionbook import checks

#: Layer settings that name or place a layer rather than define what it computes.
_IGNORED_SETTINGS = frozenset({"name", "trainable", "dtype", "build_config", "compile_config"})


def _comparable(value: Any) -> Any:
    """A layer setting with the parts that do not change the computation removed."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k not in _IGNORED_SETTINGS}
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    return value


def describe(model: object, argument: str = "model") -> list[tuple[str, dict[str, Any], int]]:
    """One row for the input shape, then one per layer: class name, settings (names left out), parameters.

    A ``Sequential`` model and a functional one with the same layers give the
    same rows: the input is described by its shape, whichever way it was declared.
    """
    checks.check_model(model, argument)
    if not model.built:
        raise ValueError(f"{argument} is not built yet: give it an Input, or call it on a batch first.")
    rows: list[tuple[str, dict[str, Any], int]] = [("Input", {"shape": _comparable(model.input_shape)}, 0)]
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        if isinstance(layer, keras.Model):  # a network inside the network: compare its own layers
            rows.append((type(layer).__name__, {}, layer.count_params()))
            rows.extend(describe(layer, argument)[1:])
            continue
        rows.append((type(layer).__name__, _comparable(layer.get_config()), layer.count_params()))
    return rows


def architecture_differences(model: object, reference: object) -> list[str]:
    """What differs between two networks' layer lists, settings and parameter counts (empty: none)."""
    mine, theirs = describe(model, "model"), describe(reference, "reference")
    differences = []
    if len(mine) != len(theirs):
        differences.append(f"model has {len(mine)} layers, reference {len(theirs)}")
    for index, (a, b) in enumerate(zip(mine, theirs)):
        if a[0] != b[0]:
            differences.append(f"layer {index}: {a[0]} against {b[0]}")
        elif a[1] != b[1]:
            keys = sorted(k for k in set(a[1]) | set(b[1]) if a[1].get(k) != b[1].get(k))
            details = ", ".join(f"{k}={a[1].get(k)!r} against {b[1].get(k)!r}" for k in keys)
            differences.append(f"layer {index} ({a[0]}): {details}")
        elif a[2] != b[2]:
            differences.append(f"layer {index} ({a[0]}): {a[2]:,} parameters against {b[2]:,}")
    return differences


def assert_same_architecture(model: object, reference: object) -> None:
    """Raise an AssertionError naming each difference unless ``model`` and ``reference`` are the same network.

    Same means: the same layers in the same order, each with the same
    settings (names aside) and the same number of parameters. The weights
    may differ: this compares the networks, not their training.
    """
    differences = architecture_differences(model, reference)
    if differences:
        raise AssertionError(
            "The two networks differ:\n  " + "\n  ".join(differences)
            + "\nChange the chapter's network or the package's so that they match."
        )
