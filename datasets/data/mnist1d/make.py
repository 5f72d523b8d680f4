"""Regenerates mnist1d.bin, the MNIST-1D dataset that rnnzoo ships (datasets/src/mnist1d.rs).

MNIST-1D: Greydanus & Kobak, "Scaling down deep learning with MNIST-1D" (arXiv:2011.14439),
https://github.com/greydanus/mnist1d, Apache-2.0 (see LICENSE in this folder). The data are made
by the package's own generator with its default arguments (5,000 sequences of length 40, seed
42, split 4,000 / 1,000), offline: nothing is downloaded.

    python3 -m venv /tmp/m1d && /tmp/m1d/bin/pip install mnist1d==0.0.2.post1
    /tmp/m1d/bin/python datasets/data/mnist1d/make.py

The file, little-endian:
    b"MNIST1D\\0"                      8 bytes, magic
    u32 train, u32 test, u32 length    4000, 1000, 40
    u8[length] shuffle                 the spatial permutation of the "shuffled" variant:
                                       np.random.seed(42); np.random.permutation(40), as the
                                       authors' notebook (notebooks/mnist1d-classification.ipynb)
    f32[train * length] x              row-major, one sequence per row
    u8[train] y
    f32[test * length] x_test
    u8[test] y_test
"""

import pathlib
import struct

import numpy as np
from mnist1d.data import get_dataset_args, make_dataset

args = get_dataset_args()
data = make_dataset(args)
x, y, xt, yt = data["x"], data["y"], data["x_test"], data["y_test"]
assert x.shape == (4000, 40) and xt.shape == (1000, 40)
np.random.seed(42)
perm = np.random.permutation(40)

out = pathlib.Path(__file__).with_name("mnist1d.bin")
with open(out, "wb") as f:
    f.write(b"MNIST1D\0")
    f.write(struct.pack("<III", x.shape[0], xt.shape[0], x.shape[1]))
    f.write(perm.astype(np.uint8).tobytes())
    f.write(x.astype("<f4").tobytes())
    f.write(y.astype(np.uint8).tobytes())
    f.write(xt.astype("<f4").tobytes())
    f.write(yt.astype(np.uint8).tobytes())
print(f"wrote {out}: x[0][:3] = {x[0][:3]}, y[:5] = {y[:5]}, shuffle[:5] = {perm[:5]}")
