"""PyTorch reference fixtures for the feed-forward / convolutional layers
(Dense, Conv1D, MaxPooling1D, GlobalAveragePooling1D, BatchNormalization,
LayerNormalization). Run with Debian's torch:

    /usr/bin/python3 tests/gen_basic_fixtures.py

Writes tests/fixtures/basic_layers.bin, read by tests/test_layers_basic.c.
Every case "<case>/..." holds:
  x (B, ...) channels-last input, dy upstream gradient, y output, dx input
  gradient; each parameter tensor under its Keras name and Keras layout
  ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"),
  its gradient as "d<name>", and for BatchNorm the statistics after one
  training forward as "<name>_after"; "mask" (B, T) of 0/1 when masked.
The computation runs in float64 (inputs are float32 values) so the
references are exact to float32 rounding.

Layout conversions (torch → Keras):
  Linear.weight (out, in)     → kernel (in, out)          : W.T
  Conv1d.weight (F, Cin, K)   → kernel (K, Cin, F)        : W.permute(2, 1, 0)
  Conv1d / pooling / BatchNorm1d take channels-first input: x.permute(0, 2, 1)
Padding for Conv1D is applied explicitly with F.pad using the Keras rule
(docs/keras-semantics.md §10): same → P = max((L_out−1)s + d(K−1) + 1 − L, 0),
left ⌊P/2⌋; causal → left d(K−1). MaxPooling1D same pads with −inf.
BatchNorm: torch's running_var uses the UNBIASED batch variance and its
momentum is 1 − keras_momentum; the "_after" statistics are computed here with
the Keras formula (biased variance), and the running mean is cross-checked
against torch's own.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

import snfx

torch.manual_seed(1234)
rng = np.random.default_rng(1234)
out = {}


def f32(a):
    return np.asarray(a, dtype=np.float32)


def rnd(*shape, scale=1.0):
    # float32-representable values, used in float64
    return torch.tensor(f32(rng.standard_normal(shape) * scale), dtype=torch.float64)


def put(case, **tensors):
    for k, v in tensors.items():
        if isinstance(v, torch.Tensor):
            v = v.detach().numpy()
        out[case + "/" + k] = f32(v)


ACTS = {
    "linear": lambda z: z,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softmax": lambda z: torch.softmax(z, dim=-1),
}

# ---- Dense: y = act(x @ kernel + bias) on the last axis ----
for act, xshape in [("linear", (3, 4, 5)), ("relu", (4, 5)), ("tanh", (3, 4, 5)), ("sigmoid", (4, 5)),
                    ("softmax", (3, 4, 5))]:
    x = rnd(*xshape).requires_grad_(True)
    lin = torch.nn.Linear(5, 6).double()
    with torch.no_grad():
        lin.weight.copy_(rnd(6, 5, scale=0.5))
        lin.bias.copy_(rnd(6, scale=0.5))
    y = ACTS[act](lin(x))
    dy = rnd(*y.shape)
    y.backward(dy)
    put("dense_" + act, x=x, dy=dy, y=y, dx=x.grad, kernel=lin.weight.T, bias=lin.bias,
        dkernel=lin.weight.grad.T, dbias=lin.bias.grad)


# ---- Conv1D ----
def keras_pads(L, K, s, d, padding):
    span = d * (K - 1) + 1
    if padding == "valid":
        return 0, 0
    lout = -(-L // s)
    P = max((lout - 1) * s + span - L, 0)
    if padding == "same":
        return P // 2, P - P // 2
    return span - 1, 0  # causal


CONV = [  # case, filters, K, strides, padding, dilation, activation, (B, L, Cin)
    ("conv_valid", 4, 3, 1, "valid", 1, "linear", (2, 11, 3)),
    ("conv_same", 4, 4, 1, "same", 1, "tanh", (2, 11, 3)),
    ("conv_stride2", 4, 3, 2, "valid", 1, "linear", (2, 12, 3)),
    ("conv_stride2_same", 5, 4, 2, "same", 1, "relu", (2, 11, 3)),
    ("conv_stride3_valid", 3, 2, 3, "valid", 1, "linear", (2, 13, 2)),
    ("conv_dil2", 4, 3, 1, "valid", 2, "linear", (2, 11, 3)),
    ("conv_dil2_same", 4, 3, 1, "same", 2, "sigmoid", (2, 10, 3)),
    ("conv_causal", 4, 3, 1, "causal", 2, "relu", (2, 11, 3)),
]
for case, Fo, K, s, padding, d, act, (B, L, Cin) in CONV:
    x = rnd(B, L, Cin).requires_grad_(True)
    w = rnd(Fo, Cin, K, scale=0.4).requires_grad_(True)  # torch layout
    b = rnd(Fo, scale=0.3).requires_grad_(True)
    pl, pr = keras_pads(L, K, s, d, padding)
    xc = F.pad(x.permute(0, 2, 1), (pl, pr))
    y = ACTS[act](F.conv1d(xc, w, b, stride=s, dilation=d).permute(0, 2, 1))
    dy = rnd(*y.shape)
    y.backward(dy)
    put(case, x=x, dy=dy, y=y, dx=x.grad, kernel=w.permute(2, 1, 0), bias=b, dkernel=w.grad.permute(2, 1, 0),
        dbias=b.grad)

# ---- MaxPooling1D ----
for case, P, S, padding, (B, L, C) in [("maxpool_2", 2, 2, "valid", (2, 11, 3)),
                                         ("maxpool_3s2", 3, 2, "valid", (2, 11, 3)),
                                         ("maxpool_same", 2, 2, "same", (2, 11, 3)),
                                         ("maxpool_3s2_same", 3, 2, "same", (2, 10, 3))]:
    x = rnd(B, L, C).requires_grad_(True)
    xc = x.permute(0, 2, 1)
    if padding == "same":
        lout = -(-L // S)
        Pt = max((lout - 1) * S + P - L, 0)
        xc = F.pad(xc, (Pt // 2, Pt - Pt // 2), value=-np.inf)
    y = F.max_pool1d(xc, P, S).permute(0, 2, 1)
    dy = rnd(*y.shape)
    y.backward(dy)
    put(case, x=x, dy=dy, y=y, dx=x.grad)

# ---- GlobalAveragePooling1D (AvgPool over the whole time axis; masked mean) ----
x = rnd(3, 7, 4).requires_grad_(True)
y = F.avg_pool1d(x.permute(0, 2, 1), 7).squeeze(-1)
dy = rnd(*y.shape)
y.backward(dy)
put("gap", x=x, dy=dy, y=y, dx=x.grad)
x = rnd(3, 7, 4).requires_grad_(True)
mask = torch.tensor([[1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1], [0, 1, 0, 1, 1, 0, 1]], dtype=torch.float64)
y = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True)
dy = rnd(*y.shape)
y.backward(dy)
put("gap_masked", x=x, dy=dy, y=y, dx=x.grad, mask=mask)


# ---- BatchNormalization (training: batch statistics; inference: moving) ----
def batchnorm_case(case, xshape, training, momentum=0.99, eps=1e-3):
    C = xshape[-1]
    x = rnd(*xshape).requires_grad_(True)
    bn = torch.nn.BatchNorm1d(C, eps=eps, momentum=1 - momentum).double()
    with torch.no_grad():
        bn.weight.copy_(rnd(C, scale=0.5) + 1)
        bn.bias.copy_(rnd(C, scale=0.5))
        bn.running_mean.copy_(rnd(C, scale=0.3))
        bn.running_var.copy_(torch.tensor(f32(rng.uniform(0.5, 2.0, C)), dtype=torch.float64))
    mm0, mv0 = bn.running_mean.clone(), bn.running_var.clone()
    bn.train(training)
    xc = x if len(xshape) == 2 else x.permute(0, 2, 1)
    yc = bn(xc)
    y = yc if len(xshape) == 2 else yc.permute(0, 2, 1)
    dy = rnd(*y.shape)
    y.backward(dy)
    xd = x.detach().reshape(-1, C)
    if training:
        mu, var = xd.mean(0), xd.var(0, unbiased=False)
        mm1 = mm0 * momentum + mu * (1 - momentum)
        mv1 = mv0 * momentum + var * (1 - momentum)
        assert torch.allclose(mm1, bn.running_mean)  # torch agrees on the mean, not on the variance
    else:
        mm1, mv1 = mm0, mv0
    put(case, x=x, dy=dy, y=y, dx=x.grad, gamma=bn.weight, beta=bn.bias, moving_mean=mm0, moving_variance=mv0,
        dgamma=bn.weight.grad, dbeta=bn.bias.grad, moving_mean_after=mm1, moving_variance_after=mv1)


batchnorm_case("bn_train_seq", (4, 5, 3), True)
batchnorm_case("bn_train_vec", (6, 3), True)
batchnorm_case("bn_infer_seq", (4, 5, 3), False)
batchnorm_case("bn_train_m09", (6, 3), True, momentum=0.9, eps=1e-2)

# ---- LayerNormalization (eps 1e-3) ----
for case, xshape in [("ln_seq", (3, 4, 5)), ("ln_vec", (4, 6))]:
    C = xshape[-1]
    x = rnd(*xshape).requires_grad_(True)
    ln = torch.nn.LayerNorm(C, eps=1e-3).double()
    with torch.no_grad():
        ln.weight.copy_(rnd(C, scale=0.5) + 1)
        ln.bias.copy_(rnd(C, scale=0.5))
    y = ln(x)
    dy = rnd(*y.shape)
    y.backward(dy)
    put(case, x=x, dy=dy, y=y, dx=x.grad, gamma=ln.weight, beta=ln.bias, dgamma=ln.weight.grad, dbeta=ln.bias.grad)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "basic_layers.bin")
snfx.write(path, out)
print("wrote %s (%d tensors)" % (path, len(out)))
