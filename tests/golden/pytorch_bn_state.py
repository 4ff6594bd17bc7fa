"""PyTorch BatchNorm2d state exported to safetensors, for normshift-candle's loading test.

Writes, next to this script:
  pytorch_bn_state.safetensors  state_dict() of a BatchNorm2d(4) after 3 training steps,
                                keys prefixed with "features.1." as in a Sequential
  pytorch_bn_state.json         the same values as numbers, an input, and the module's
                                evaluation-mode output for it

Run from the repository root:  python tests/golden/pytorch_bn_state.py
Check a file normshift wrote:   python tests/golden/pytorch_bn_state.py --check FILE
  (loads it into a fresh BatchNorm2d(4) with strict=True and compares it to the fixture)
"""

import json
import os
import sys

import numpy
import safetensors
import torch
from safetensors.torch import save_file

SEED = 20261125
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    torch.manual_seed(SEED)
    bn = torch.nn.BatchNorm2d(4)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(4))
        bn.bias.copy_(torch.randn(4))
    bn.train()
    for step in range(3):
        bn(torch.randn(6, 4, 5, 5) * (step + 1) + step)
    bn.eval()
    x = torch.randn(2, 4, 3, 3)
    with torch.no_grad():
        y = bn(x)
    state = {f"features.1.{k}": v.contiguous() for k, v in bn.state_dict().items()}
    save_file(state, os.path.join(HERE, "pytorch_bn_state.safetensors"))
    doc = {
        "generator": "tests/golden/pytorch_bn_state.py",
        "torch_version": torch.__version__,
        "numpy_version": numpy.__version__,
        "safetensors_version": safetensors.__version__,
        "python_version": sys.version.split()[0],
        "seed": SEED,
        "prefix": "features.1.",
        "weight": bn.weight.detach().double().tolist(),
        "bias": bn.bias.detach().double().tolist(),
        "running_mean": bn.running_mean.double().tolist(),
        "running_var": bn.running_var.double().tolist(),
        "num_batches_tracked": int(bn.num_batches_tracked),
        "eval_input_shape": list(x.shape),
        "eval_input": x.double().flatten().tolist(),
        "eval_output": y.double().flatten().tolist(),
    }
    with open(os.path.join(HERE, "pytorch_bn_state.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def check(path):
    from safetensors.torch import load_file

    state = load_file(path)
    bn = torch.nn.BatchNorm2d(4)
    bn.load_state_dict({k.removeprefix("features.1."): v for k, v in state.items()}, strict=True)
    expected = load_file(os.path.join(HERE, "pytorch_bn_state.safetensors"))
    for k, v in expected.items():
        assert torch.equal(state[k], v), k
    print(f"{path}: loaded into torch {torch.__version__} BatchNorm2d(4), strict; equal to the fixture")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        main()
