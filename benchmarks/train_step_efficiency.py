"""How close the book's training steps come to this machine's matmul rate.

Usage (from the repository root)::

    .venv/bin/python benchmarks/train_step_efficiency.py

For the Fashion-MNIST CNN and the GAN, TensorFlow's FLOP statistics (the
ones its profiler sums) count the floating-point operations that one
compiled training step runs: forward pass, gradients, and for the GAN both
networks' halves of the step. The script then times steps on real batches
and divides the achieved GFLOP/s by the dense float32 matmul rate it
measures in the same run. A ratio near 1 means the step keeps the CPU as
busy as a large matrix product does; small convolutions on 28x28 images
rarely get there, because their matrices are small and memory traffic
dominates. To show where the ceiling lies, it also times every convolution
kernel of each step alone, on tensors of the same shapes: a step made of
those kernels can hardly run faster than they do one by one; and it names
the three kernels that lose the most time (also for the steps of
``KERNEL_VARIANTS``).  Last, it times the same steps with other layers
(``VARIANTS``): the share grows with width, which says how much of the gap
is the book's small layers rather than the library; and the GAN with two
changes of this edition undone, Keras's own BatchNormalization in place of
the fused one, and a plain ``Conv2D`` as the generator's output layer. Steps timed together take turns in rounds, and
each share comes with its range over the rounds.  Writes ``benchmarks/efficiency.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import visionbook  # noqa: E402  (before TensorFlow: quiet start-up)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from machine import cpu_name, matmul_gflops  # noqa: E402
from visionbook import cnn, data, gan  # noqa: E402

OUT = Path(__file__).resolve().parent


def step_graph(step: Callable[..., Any], *specs: tf.TensorSpec) -> tf.Graph:
    """The graph ``tf.function`` traces for ``step`` on inputs of ``specs``."""
    return tf.function(step).get_concrete_function(*specs).graph


def live_ops(graph: tf.Graph) -> list[tf.Operation]:
    """The operations of ``graph`` that run: those its outputs and its stateful updates depend on.

    ``tape.gradient`` builds both gradients of every convolution, for its
    input and for its weights, even where one of them is not needed (the
    gradient of the input images, or of the discriminator's weights in the
    generator's half of a GAN step). TensorFlow prunes those at run time, so
    counting them would credit the step with work it never does.
    """
    needed, stack = set(), [t.op for t in graph.outputs] + list(graph.control_outputs)
    while stack:
        op = stack.pop()
        if op.name not in needed:
            needed.add(op.name)
            stack.extend(t.op for t in op.inputs)
            stack.extend(op.control_inputs)
    return [op for op in graph.get_operations() if op.name in needed]


#: Gradients of a depthwise convolution, which TensorFlow's FLOP registry leaves out.
DEPTHWISE_GRADIENTS = ("DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter")


def op_flops(graph: tf.Graph, op: tf.Operation) -> float:
    """FLOPs of one operation by TensorFlow's registered statistics (those its profiler sums); 0 if none.

    The two gradients of a depthwise convolution are counted as its forward
    pass is (two per weight per output element: the same multiply-adds,
    in another order): the registry has the forward pass only.
    """
    from tensorflow.python.framework import ops as tf_ops

    if op.type in DEPTHWISE_GRADIENTS:
        out_backprop = op.inputs[2].shape
        kernel = op.inputs[1].shape if op.type.endswith("Input") else op.outputs[0].shape
        return 2.0 * out_backprop.num_elements() * kernel[0] * kernel[1]
    try:
        return float(tf_ops.get_stats_for_node_def(graph, op.node_def, "flops").value or 0)
    except ValueError:  # no statistics registered for this op type: no arithmetic worth counting
        return 0.0


def counted_flops(step: Callable[..., Any], *specs: tf.TensorSpec) -> float:
    """Floating-point operations of one call of ``step``, summed over the operations that run."""
    graph = step_graph(step, *specs)
    return sum(op_flops(graph, op) for op in live_ops(graph))


def steps_per_second_in_rounds(
    runs: list[tuple[Callable[..., Any], list[tuple]]], seconds: float, rounds: int,
    jit_compile: bool = False, start_at: float | None = None,
) -> list[list[float]]:
    """Steps per second of each compiled ``(step, batches)`` in ``runs``, round by round.

    Each run gets ``seconds`` in all, split into ``rounds`` slots, and the
    runs take turns slot by slot. This machine's speed drifts by up to 2x
    within minutes; taking turns exposes every run to the same drift, so
    their ratios hold even when the absolute rates move, and the spread
    over the rounds shows how far they moved. ``jit_compile=True`` compiles
    the steps with XLA instead of running TensorFlow's graph of kernels.
    ``start_at`` (a ``time.time()`` value) holds the timing back until then,
    after the warm-up, so that processes started together time together.
    """
    compiled = []
    for step, batches in runs:
        function = tf.function(step, jit_compile=jit_compile)
        for batch in batches[:3]:  # trace and warm up
            function(*batch)
        compiled.append((function, batches))
    if start_at is not None:
        if time.time() > start_at:
            print(f"warning: timing starts {time.time() - start_at:.1f} s after start_at", file=sys.stderr)
        time.sleep(max(0.0, start_at - time.time()))
    rates: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for rate, (function, batches) in zip(rates, compiled):
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / rounds:
                result = function(*batches[done % len(batches)])
                done += 1
            _ = [np.asarray(v) for v in tf.nest.flatten(result)]  # wait for the last step
            rate.append(done / (time.perf_counter() - start))
    return rates


CONVOLUTION_OPS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "DepthwiseConv2dNative", *DEPTHWISE_GRADIENTS)


def convolution_kernels(step: Callable[..., Any], *specs: tf.TensorSpec) -> list[dict[str, Any]]:
    """Every convolution kernel of the compiled ``step``: its op, the shapes it works on, its FLOPs.

    A training step runs each convolution up to three times: forward, and in the
    backward pass once for the gradient of its input and once for the
    gradient of its weights (``Conv2DBackpropInput``, ``Conv2DBackpropFilter``;
    a transposed convolution's forward pass is itself a ``Conv2DBackpropInput``).
    """
    graph = step_graph(step, *specs)
    kernels = []
    for op in live_ops(graph):
        if op.type not in CONVOLUTION_OPS:
            continue
        attrs = {k: op.get_attr(k) for k in ("strides", "padding", "dilations", "data_format")}
        shapes = [tuple(t.shape.as_list()) for t in op.inputs] + [tuple(op.outputs[0].shape.as_list())]
        kernels.append({"name": op.name, "type": op.type, "attrs": attrs, "shapes": shapes, "flops": op_flops(graph, op)})
    return kernels


def isolated_kernel_seconds(kernel: dict[str, Any], seconds: float) -> float:
    """Seconds per call of one convolution kernel run alone, on random tensors of its shapes."""
    attrs, shapes, kind = kernel["attrs"], kernel["shapes"], kernel["type"]
    output_shape = shapes[-1]
    raw = getattr(tf.raw_ops, kind)  # a depthwise kernel takes the same arguments as the plain one
    role = kernel_role(kind)
    if role == "forward":
        x, w = tf.random.normal(shapes[0]), tf.random.normal(shapes[1])
        call = lambda: raw(input=x, filter=w, **attrs)  # noqa: E731
    elif role == "input_gradient":
        w, g = tf.random.normal(shapes[1]), tf.random.normal(shapes[2])
        call = lambda: raw(input_sizes=output_shape, filter=w, out_backprop=g, **attrs)  # noqa: E731
    else:
        x, g = tf.random.normal(shapes[0]), tf.random.normal(shapes[2])
        call = lambda: raw(input=x, filter_sizes=output_shape, out_backprop=g, **attrs)  # noqa: E731
    compiled = tf.function(call)
    compiled().numpy()  # trace and warm up
    best = float("inf")
    for _ in range(3):  # best of three rounds: the machine's own hiccups are not the kernel's speed
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 3:
            result = compiled()
            calls += 1
        result.numpy()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def kernel_ceiling(step: Callable[..., Any], specs: tuple[tf.TensorSpec, ...], total_flops: float, seconds: float) -> dict[str, float]:
    """How fast the step could be if it did nothing but its convolution kernels, each as fast as alone.

    Returns the convolutions' share of the step's FLOPs, the kernels' own
    combined rate, and the step's rate if everything but the convolutions
    were free: an upper bound for the step on this machine and library.
    """
    kernels = convolution_kernels(step, *specs)
    per_kernel = seconds / max(len(kernels), 1)
    conv_flops = sum(k["flops"] for k in kernels)
    conv_seconds = 0.0
    by_role: dict[str, list[float]] = {role: [0.0, 0.0] for role in ("forward", "input_gradient", "weight_gradient")}
    for kernel in kernels:
        kernel["seconds"] = isolated_kernel_seconds(kernel, per_kernel)
        conv_seconds += kernel["seconds"]
        role = kernel_role(kernel["type"])
        by_role[role][0] += kernel["flops"]
        by_role[role][1] += kernel["seconds"]
    conv_rate = conv_flops / conv_seconds
    # the kernels that cost the most time beyond what their FLOPs would take at the kernels' joint rate
    laggards = sorted(kernels, key=lambda k: k["flops"] / conv_rate - k["seconds"])[:3]
    return {
        "conv_share": conv_flops / total_flops,
        "kernels": len(kernels),
        "conv_gflops": conv_rate / 1e9,
        "bound_gflops": total_flops / conv_seconds / 1e9,
        **{f"{role}_gflops": f / t / 1e9 for role, (f, t) in by_role.items() if t > 0},
        "slowest": [
            f"{layer_of(k['name'])} {kernel_role(k['type']).replace('_', ' ')} ({k['type']}) "
            f"{k['flops'] / k['seconds'] / 1e9:.0f} GFLOP/s, {k['seconds'] / conv_seconds:.0%} of the kernels' time"
            for k in laggards
        ],
    }


def layer_of(op_name: str) -> str:
    """'gradient_tape/generator_1/image_1/convolution/Conv2DBackpropFilter' -> 'generator/image'."""
    parts = [p for p in op_name.split("/") if p != "gradient_tape"][:2]
    return "/".join(re.sub(r"_\d+$", "", p) for p in parts)


def kernel_role(op_type: str) -> str:
    """'forward', 'input_gradient' or 'weight_gradient': what a convolution kernel computes."""
    if op_type.endswith("BackpropInput"):
        return "input_gradient"
    return "weight_gradient" if op_type.endswith("BackpropFilter") else "forward"


def cnn_step(
    batch_size: int, overrides: dict[str, Any] | None = None
) -> tuple[Callable[..., Any], tuple[tf.TensorSpec, ...], list[tuple]]:
    """The book's CNN training step (forward, loss, gradients, Adam update).

    ``overrides`` changes :data:`cnn.FASHION_CNN` keys (``filters``, say).
    """
    keras.utils.set_random_seed(visionbook.SEED)
    (x_train, y_train), _ = data.fashion_mnist_for_training()
    model = cnn.create_fashion_cnn(**(overrides or {}))
    cnn.compile_classifier(model, 1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)

    def step(images: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    specs = (tf.TensorSpec((batch_size, 28, 28, 1)), tf.TensorSpec((batch_size,), tf.int64))
    batches = [
        (tf.constant(x_train[i : i + batch_size]), tf.constant(y_train[i : i + batch_size].astype("int64")))
        for i in range(0, 40 * batch_size, batch_size)
    ]
    return step, specs, batches


def gan_step(
    batch_size: int, overrides: dict[str, Any] | None = None
) -> tuple[Callable[..., Any], tuple[tf.TensorSpec, ...], list[tuple]]:
    """The book's GAN training step: one discriminator and one generator update.

    ``overrides`` changes :data:`gan.FASHION_GAN` keys (``generator_widths``, say).
    """
    keras.utils.set_random_seed(visionbook.SEED)
    (x_train, _), _ = data.load_fashion_mnist()
    model = gan.build_fashion_gan({**gan.FASHION_GAN, **(overrides or {})})
    model.d_optimizer.build(model.discriminator.trainable_variables)
    model.g_optimizer.build(model.generator.trainable_variables)
    real = data.to_tanh_range(data.as_batch(x_train[: 40 * batch_size]))

    def step(images: tf.Tensor) -> Any:
        return model.train_step(images)

    specs = (tf.TensorSpec((batch_size, 28, 28, 1)),)
    batches = [(tf.constant(real[i : i + batch_size]),) for i in range(0, len(real), batch_size)]
    return step, specs, batches


#: Steps whose convolution kernels are also timed alone: (model, builder, overrides).
KERNEL_VARIANTS: list[tuple[str, Callable[..., Any], dict[str, Any]]] = [
    ("GAN (both networks)", gan_step, {"depthwise_image_conv": False}),  # the output layer as Keras's Conv2D
]

#: Each step builder's batch size: the one its chapter trains with.
BATCH_SIZE: dict[Callable[..., Any], int] = {
    cnn_step: cnn.FASHION_TRAINING["batch_size"],
    gan_step: gan.FASHION_GAN["batch_size"],
}

#: The steps timed again with other layers: (model, builder, overrides).
VARIANTS: list[tuple[str, Callable[..., Any], dict[str, Any]]] = [
    ("Fashion-MNIST CNN", cnn_step, {}),
    ("Fashion-MNIST CNN", cnn_step, {"filters": (64, 128)}),
    ("GAN (both networks)", gan_step, {}),
    ("GAN (both networks)", gan_step, {"generator_widths": (128, 64)}),  # the book's for a day (fast on AVX-512 only)
    ("GAN (both networks)", gan_step, {"generator_widths": (256, 128)}),
    ("GAN (both networks)", gan_step, {"discriminator_widths": (64, 128)}),
    ("GAN (both networks)", gan_step, {"fused_batch_norm": False}),  # Keras's own layer, the book's until 2026-12-03
    ("GAN (both networks)", gan_step, {"depthwise_image_conv": False}),  # Keras's Conv2D, the book's until 2026-12-06
]


def step_rates(
    builds: list[tuple[Callable[..., Any], tuple[tf.TensorSpec, ...], list[tuple]]], seconds: float, rounds: int = 1
) -> list[dict[str, float]]:
    """For each ``(step, specs, batches)``: FLOPs of one step, FLOPs per image, images/s and GFLOP/s.

    The steps take turns (:func:`steps_per_second_in_rounds`); rates are
    the median over the rounds, with the slowest and fastest round's
    GFLOP/s beside them.
    """
    per_round = steps_per_second_in_rounds([(step, batches) for step, _, batches in builds], seconds, rounds)
    results = []
    for (step, specs, _), sps_rounds in zip(builds, per_round):
        batch_size = specs[0].shape[0]
        flops = counted_flops(step, *specs)
        sps = float(np.median(sps_rounds))
        results.append({
            "flops": flops,
            "mflop_per_image": flops / batch_size / 1e6,
            "images_per_second": sps * batch_size,
            "gflops": flops * sps / 1e9,
            "gflops_slowest": flops * min(sps_rounds) / 1e9,
            "gflops_fastest": flops * max(sps_rounds) / 1e9,
        })
    return results


def step_rate(step: Callable[..., Any], specs: tuple[tf.TensorSpec, ...], batches: list[tuple], seconds: float) -> dict[str, float]:
    """:func:`step_rates` of one step timed for ``seconds`` in one go."""
    return step_rates([(step, specs, batches)], seconds)[0]


def describe(overrides: dict[str, Any]) -> str:
    """``overrides`` as table text: ``the book's`` when empty."""
    return ", ".join(f"{k} {v}" for k, v in overrides.items()) or "the book's"


def share_text(result: dict[str, float], rate: float) -> str:
    """The median share of ``rate`` with its range over the rounds: ``0.36 (0.29-0.43)``."""
    return f"{result['gflops'] / rate:.2f} ({result['gflops_slowest'] / rate:.2f}-{result['gflops_fastest'] / rate:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="timing per model (default 20)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="turns the timed steps take, each getting seconds/rounds per turn (default 5)")
    parser.add_argument("--kernel-seconds", type=float, default=20.0,
                        help="timing of each model's convolution kernels run alone (default 20)")
    parser.add_argument("--width-seconds", type=float, default=10.0,
                        help="timing of each other layer variant (default 10; 0 skips them)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    rate = matmul_gflops()
    machine = f"{cpu_name()}, {os.cpu_count()} CPUs, fp32 matmul {rate:.0f} GFLOP/s (TensorFlow, 2048x2048)"
    print("machine:", machine, flush=True)
    models = [("Fashion-MNIST CNN", cnn_step), ("GAN (both networks)", gan_step)]
    builds = [build(BATCH_SIZE[build]) for _, build in models]
    rows = []
    for (name, build), result in zip(models, step_rates(builds, args.seconds, args.rounds)):
        rows.append((name, BATCH_SIZE[build], result))
        print(f"{name}: {result['mflop_per_image']:.1f} MFLOP per image, {result['images_per_second']:.0f} images/s, "
              f"{result['gflops']:.0f} GFLOP/s = {share_text(result, rate)} of matmul", flush=True)
    ceilings = []
    kernel_steps = [(name, step, specs, result["flops"]) for (name, _), (step, specs, _), (_, _, result) in zip(models, builds, rows)]
    for name, build, overrides in KERNEL_VARIANTS:
        step, specs, _ = build(BATCH_SIZE[build], overrides)
        kernel_steps.append((f"{name}, {describe(overrides)}", step, specs, counted_flops(step, *specs)))
    for name, step, specs, flops in kernel_steps:
        ceiling = kernel_ceiling(step, specs, flops, args.kernel_seconds)
        ceilings.append((name, ceiling))
        print(f"  {name}: its {ceiling['kernels']} convolution kernels alone: {ceiling['conv_gflops']:.0f} GFLOP/s; "
              f"bound for the step {ceiling['bound_gflops'] / rate:.2f} of matmul", flush=True)
    variants = []
    if args.width_seconds > 0:
        width_builds = [build(BATCH_SIZE[build], overrides) for _, build, overrides in VARIANTS]
        for (name, _, overrides), result in zip(VARIANTS, step_rates(width_builds, args.width_seconds, args.rounds)):
            variants.append((name, describe(overrides), result))
            print(f"{name}, {describe(overrides)}: {result['mflop_per_image']:.1f} MFLOP per image, "
                  f"{result['images_per_second']:.0f} images/s, {share_text(result, rate)} of matmul", flush=True)
    rate_after = matmul_gflops()
    print(f"fp32 matmul after the timings: {rate_after:.0f} GFLOP/s", flush=True)
    lines = [
        "# Training-step efficiency",
        "",
        f"- machine: {machine}; {rate_after:.0f} GFLOP/s when measured again after the timings",
        "- command: `.venv/bin/python benchmarks/train_step_efficiency.py`",
        "- FLOPs: TensorFlow's registered FLOP statistics, summed over the operations the compiled step runs "
        "(forward, gradients, optimizer update; gradients TensorFlow prunes at run time are not counted)",
        f"- timing: the steps of each table take turns, {args.rounds} rounds; rates are the median round, "
        "and the share's range runs from the slowest round to the fastest (this machine's speed drifts)",
        "",
        "| model | batch | MFLOP per image | images/s | achieved GFLOP/s | share of matmul rate (range) |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {n} | {b} | {r['mflop_per_image']:.1f} | {r['images_per_second']:.0f} | {r['gflops']:.0f} | {share_text(r, rate)} |"
            for n, b, r in rows
        ],
        "",
        "### The convolution kernels alone",
        "",
        "Each convolution of a training step runs three kernels: forward, gradient of its input, gradient of",
        "its weights. Each kernel of the compiled step, run alone on random tensors of the same shapes (best of",
        "three rounds), sets how fast the step could go if everything else in it were free:",
        "",
        "| model | kernels | share of step FLOPs | forward | input gradient | weight gradient | all kernels | step bound, share of matmul |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {n} | {c['kernels']} | {c['conv_share']:.2f} | {c.get('forward_gflops', 0):.0f} | "
            f"{c.get('input_gradient_gflops', 0):.0f} | {c.get('weight_gradient_gflops', 0):.0f} | "
            f"{c['conv_gflops']:.0f} | {c['bound_gflops'] / rate:.2f} |"
            for n, c in ceilings
        ],
        "",
        "(GFLOP/s; a transposed convolution's forward pass is an input-gradient kernel, so it counts there;",
        "depthwise convolutions count with the plain ones.)",
        "",
        "The kernels that lose the most time (beyond what their FLOPs would take at their model's",
        "\"all kernels\" rate):",
        "",
        *[f"- {n}: " + "; ".join(c["slowest"]) for n, c in ceilings],
    ]
    if variants:
        lines += [
            "",
            "### Other layers",
            "",
            "The same steps with other layer widths, and the GAN with Keras's own (unfused) BatchNormalization",
            "or with a plain `Conv2D` as the generator's output layer,",
            f"{args.width_seconds:.0f} s each, taking turns as above; the book's own layers are timed again among them,",
            "so each row compares with its model's first row:",
            "",
            "| model | layers | MFLOP per image | images/s | share of matmul rate (range) |",
            "|---|---|---:|---:|---:|",
            *[
                f"| {n} | {d} | {r['mflop_per_image']:.1f} | {r['images_per_second']:.0f} | {share_text(r, rate)} |"
                for n, d, r in variants
            ],
        ]
    (OUT / "efficiency.md").write_text("\n".join(lines) + "\n")
    print("wrote", OUT / "efficiency.md")


if __name__ == "__main__":
    main()
