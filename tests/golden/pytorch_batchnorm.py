#!/usr/bin/env python3
"""Generate PyTorch golden reference values for BatchNorm{1,2,3}d.

Writes tests/golden/pytorch_batchnorm.json (next to this script).

Everything is float64 and seeded, so re-running with the same torch/numpy
versions reproduces the file bit for bit. See tests/golden/README.md.

JSON layout
-----------
top level: generator, torch_version, numpy_version, python_version, seed, cases
case:      name, module, shape, num_features, eps, momentum (null = cumulative
           average), affine, track_running_stats, weight, bias (null when not
           affine; the values the module held before the first step), steps
step:      mode ("train" | "eval"), x, y, running_mean, running_var,
           num_batches_tracked (module state read AFTER the step; null when
           track_running_stats is false), dy, dx, dweight, dbias
           (dweight/dbias null when not affine; gradients are per step, not
           accumulated across steps)
All tensors are flattened in C (row-major) order of the case's "shape"
(PyTorch channels-first: [N, C], [N, C, L], [N, C, H, W], [N, C, D, H, W]).
"""

import json
import os
import platform
import sys

import numpy
import torch

SEED = 20261124
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "pytorch_batchnorm.json")

torch.set_default_dtype(torch.float64)
torch.manual_seed(SEED)

MODULES = {
    "BatchNorm1d": torch.nn.BatchNorm1d,
    "BatchNorm2d": torch.nn.BatchNorm2d,
    "BatchNorm3d": torch.nn.BatchNorm3d,
}


def flat(t):
    """Flatten a tensor in C order to a list of Python floats (or None)."""
    if t is None:
        return None
    return [float(v) for v in t.detach().contiguous().reshape(-1).tolist()]


def random_input(shape):
    """Random input with a per-channel non-zero mean and non-unit scale.

    Each call draws new per-channel locations/scales, so consecutive steps
    see different statistics and the running stats evolve.
    """
    c = shape[1]
    bshape = [1, c] + [1] * (len(shape) - 2)
    loc = 2.0 + 3.0 * torch.rand(c)  # in [2, 5)
    scale = 0.5 + 2.0 * torch.rand(c)  # in [0.5, 2.5)
    return loc.reshape(bshape) + scale.reshape(bshape) * torch.randn(*shape)


def run_case(name, module, shape, modes, eps=1e-5, momentum=0.1, affine=True,
             track_running_stats=True, weight=None, bias=None, inputs=None,
             grads=None):
    """Run one case. `inputs` / `grads` optionally give explicit x / dy per
    step (lists of tensors or None entries meaning "random")."""
    num_features = shape[1]
    m = MODULES[module](num_features, eps=eps, momentum=momentum,
                        affine=affine, track_running_stats=track_running_stats)
    if affine:
        with torch.no_grad():
            w = weight if weight is not None else 0.5 + torch.rand(num_features)
            b = bias if bias is not None else torch.randn(num_features)
            m.weight.copy_(w)
            m.bias.copy_(b)
    case = {
        "name": name,
        "module": module,
        "shape": list(shape),
        "num_features": num_features,
        "eps": eps,
        "momentum": momentum,
        "affine": affine,
        "track_running_stats": track_running_stats,
        "weight": flat(m.weight) if affine else None,
        "bias": flat(m.bias) if affine else None,
        "steps": [],
    }
    for i, mode in enumerate(modes):
        m.train(mode == "train")
        m.zero_grad(set_to_none=True)
        x_given = inputs[i] if inputs is not None else None
        x = (x_given if x_given is not None else random_input(shape)).clone()
        x = x.reshape(shape).requires_grad_(True)
        y = m(x)
        dy_given = grads[i] if grads is not None else None
        dy = (dy_given if dy_given is not None else torch.randn(*shape))
        dy = dy.reshape(shape)
        y.backward(dy)
        step = {
            "mode": mode,
            "x": flat(x),
            "y": flat(y),
            "running_mean": flat(m.running_mean),
            "running_var": flat(m.running_var),
            "num_batches_tracked": (int(m.num_batches_tracked.item())
                                    if m.num_batches_tracked is not None
                                    else None),
            "dy": flat(dy),
            "dx": flat(x.grad),
            "dweight": flat(m.weight.grad) if affine else None,
            "dbias": flat(m.bias.grad) if affine else None,
        }
        case["steps"].append(step)
    return case


def dumps(doc):
    """JSON with one key per line and every array on a single line.

    json.dumps writes floats with repr(), which round-trips float64 exactly.
    """
    def obj(d, indent):
        pad = " " * indent
        items = []
        for k, v in d.items():
            if isinstance(v, dict):
                body = obj(v, indent + 1)
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                inner = ",\n".join(pad + "  " + obj(e, indent + 2) for e in v)
                body = "[\n" + inner + "\n" + pad + " ]"
            else:
                body = json.dumps(v, allow_nan=False)
            items.append(pad + " " + json.dumps(k) + ": " + body)
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    return obj(doc, 0) + "\n"


def main():
    cases = []
    # a. BatchNorm1d, 2-D input, all defaults.
    cases.append(run_case("bn1d_2d_defaults", "BatchNorm1d", (8, 3),
                          ["train", "train", "train", "eval"]))
    # b. BatchNorm1d, 3-D input, cumulative moving average (momentum=None).
    cases.append(run_case("bn1d_3d_momentum_none", "BatchNorm1d", (4, 3, 5),
                          ["train"] * 4 + ["eval"], momentum=None))
    # c. BatchNorm2d without affine parameters.
    cases.append(run_case("bn2d_no_affine", "BatchNorm2d", (2, 3, 4, 5),
                          ["train", "train", "eval"], affine=False))
    # d. BatchNorm2d without running stats: eval still uses batch statistics.
    cases.append(run_case("bn2d_no_running_stats", "BatchNorm2d", (3, 2, 3, 3),
                          ["train", "train", "eval"],
                          track_running_stats=False))
    # e. BatchNorm3d with non-default momentum and eps.
    cases.append(run_case("bn3d_momentum_0.3_eps_1e-3", "BatchNorm3d",
                          (2, 2, 2, 3, 2), ["train"] * 3 + ["eval"],
                          momentum=0.3, eps=1e-3))
    # f. Tiny batch: N=2 (smallest batch PyTorch accepts for 2-D train input;
    #    unbiased running_var uses n/(n-1) = 2).
    cases.append(run_case("bn1d_tiny_batch_n2", "BatchNorm1d", (2, 4),
                          ["train", "train", "eval"], eps=1e-5))
    # g. The seed example.
    cases.append(run_case(
        "seed_example", "BatchNorm1d", (5, 1), ["train"],
        weight=torch.tensor([1.0]), bias=torch.tensor([0.0]),
        inputs=[torch.tensor([[1.0], [2.0], [3.0], [4.0], [5.0]])],
        grads=[torch.tensor([[0.1], [-0.2], [0.3], [0.05], [-0.4]])]))
    # h. Eval before any training step (running stats still at mean 0 / var 1),
    #    then train, then eval again.
    cases.append(run_case("bn1d_eval_before_train", "BatchNorm1d", (4, 3),
                          ["eval", "train", "eval"]))
    # i. A constant channel (zero batch variance): output is pure bias, eps
    #    alone keeps the division finite.
    xc = random_input((4, 2))
    xc[:, 0] = 2.5
    cases.append(run_case("bn1d_constant_channel", "BatchNorm1d", (4, 2),
                          ["train", "eval"], inputs=[xc, None]))
    # j. momentum=None, no affine, BatchNorm2d: cumulative average + eval.
    cases.append(run_case("bn2d_momentum_none_no_affine", "BatchNorm2d",
                          (2, 2, 2, 3), ["train"] * 3 + ["eval"],
                          momentum=None, affine=False))

    doc = {
        "generator": "tests/golden/pytorch_batchnorm.py",
        "torch_version": torch.__version__,
        "numpy_version": numpy.__version__,
        "python_version": platform.python_version(),
        "seed": SEED,
        "cases": cases,
    }
    with open(OUT, "w") as f:
        f.write(dumps(doc))
    print(f"wrote {OUT}: {len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
