"""Reference fixtures for src/loss.c and src/optim.c (tests/test_loss.c, tests/test_optim.c).

Run with Debian's torch:   /usr/bin/python3 tests/gen_train_fixtures.py
Writes tests/fixtures/loss_<kind>.bin and tests/fixtures/optim_traj.bin (committed).

Losses: the references are PyTorch's own loss modules, evaluated in float64 on
the float32 inputs, gradients by autograd:
  mse  nn.MSELoss              mae  nn.L1Loss
  bce  nn.BCELoss on p.clamp(lo, hi) with the float32 Keras bounds
       lo = f32(1e-7), hi = f32(1 - 1e-7) (torch's own log clamp at -100 is
       never reached); clamp passes no gradient where it is active, like Keras.
  bce_logits  nn.BCEWithLogitsLoss
  cce  F.cross_entropy(log p, one-hot): -Σ y·log_softmax(log p) = -Σ y·log(p/Σp),
       the Keras renormalisation; the inputs keep p/Σp >= 0.05 so Keras' clip is
       inactive. Rows of p deliberately do not sum to 1.
  scce nn.NLLLoss(log_softmax(log p), class ids), same remark.
Each file has an unweighted case (the module's default "mean" reduction) and a
weighted one (reduction="none", per-row mean over the last axis, Σ w·ℓ / Σ w,
the Keras "sum_over_batch_size" with a mask).

Optimizers: torch.optim does NOT implement the Keras 3 formulas:
  * torch RMSprop divides by (√v + ε) (ε outside the sqrt); Keras 3 divides by
    √(v + ε); with momentum torch also accumulates g/(√v+ε) and multiplies by
    lr afterwards;
  * torch Adam adds ε to the bias-corrected √v̂, Keras to the uncorrected √v
    (equivalently ε/√(1−β2^t) on √v̂, a step-dependent ε torch cannot express);
  * torch clip_grad_norm_ divides by (norm + 1e-6); Keras by max(norm, c).
So the Keras trajectories are computed here by hand with float32 torch tensors
(the formulas of keras/src/optimizers/{sgd,rmsprop,adam,base_optimizer}.py),
and, where torch.optim does implement the same maths, a torch.optim trajectory
is stored too: SGD (plain, momentum, nesterov, clip_grad_value_) equals Keras
SGD, and torch RMSprop (momentum 0, plain and centered) equals the tf.keras
<= 2.10 "legacy" RMSprop (ε outside the sqrt). The generator asserts that the
hand-written SGD agrees with torch.optim.SGD.

Problem: linear least squares, P = X Wᵀ + b with W (2,4), b (2); params are
the flat buffer [W row-major (8), b (2)], two segments (so clipnorm per segment
differs from global_clipnorm). loss = mean((P − Y)²) over the 16×2 entries;
the gradient is computed in float64 from the float32 params and rounded to
float32 (tests/test_optim.c does the same in C).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snfx  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
LO = float(np.float32(1e-7))
HI = float(np.float32(1.0) - np.float32(1e-7))


def f32(a):
    return np.asarray(a, dtype=np.float32)


# ---------------------------------------------------------------- losses
def torch_loss(kind, p, y, w):
    """Returns (loss, grad wrt p) in float64; w None for the unweighted case."""
    pt = torch.tensor(f32(p), dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(f32(y), dtype=torch.float64)
    red = "mean" if w is None else "none"
    if kind == "mse":
        l = torch.nn.MSELoss(reduction=red)(pt, yt)
    elif kind == "mae":
        l = torch.nn.L1Loss(reduction=red)(pt, yt)
    elif kind == "bce":
        l = torch.nn.BCELoss(reduction=red)(pt.clamp(LO, HI), yt)
    elif kind == "bce_logits":
        l = torch.nn.BCEWithLogitsLoss(reduction=red)(pt, yt)
    elif kind == "cce":
        l = F.cross_entropy(torch.log(pt), yt, reduction=red)
    elif kind == "scce":
        l = torch.nn.NLLLoss(reduction=red)(F.log_softmax(torch.log(pt), dim=-1), yt[:, 0].long())
    if w is not None:
        if l.dim() == 2:
            l = l.mean(dim=-1)
        wt = torch.tensor(f32(w), dtype=torch.float64)
        l = (l * wt).sum() / wt.sum()
    l.backward()
    return l.item(), pt.grad.numpy()


def gen_losses(rng):
    R, n = 6, 4
    w = f32([1, 0, 1, 0.5, 1, 0])
    cases = {}
    # mse / mae: differences kept away from 0 (the |x| kink)
    p = rng.normal(size=(R, n))
    y = p + rng.choice([-1, 1], size=(R, n)) * rng.uniform(0.1, 1.0, size=(R, n))
    cases["mse"] = (p, y)
    cases["mae"] = (p, y)
    # bce: probabilities inside the clip, soft and hard targets, plus two clipped entries
    p = rng.uniform(0.05, 0.95, size=(R, n))
    y = rng.choice([0.0, 1.0, 0.3], size=(R, n))
    p[0, 0], y[0, 0] = 0.0, 1.0   # clipped at lo: loss -log(lo), gradient 0
    p[2, 1], y[2, 1] = 1.0, 0.0   # clipped at hi
    cases["bce"] = (p, y)
    p = rng.normal(scale=3.0, size=(R, n))
    p[1, 2] = 40.0                # large logits: stable form
    p[3, 0] = -40.0
    y = rng.choice([0.0, 1.0, 0.25], size=(R, n))
    cases["bce_logits"] = (p, y)
    p = rng.uniform(0.2, 1.5, size=(R, n))  # unnormalised rows
    cls = rng.integers(0, n, size=R)
    cases["cce"] = (p, np.eye(n)[cls])
    cases["scce"] = (p, cls.reshape(R, 1).astype(np.float64))
    for kind, (p, y) in cases.items():
        p, y = f32(p), f32(y)
        l0, g0 = torch_loss(kind, p, y, None)
        l1, g1 = torch_loss(kind, p, y, w)
        snfx.write(os.path.join(OUT, "loss_%s.bin" % kind), {
            "y_pred": p, "y_true": y, "weight": w,
            "loss": [l0], "grad": g0, "loss_w": [l1], "grad_w": g1,
        })
        print("loss_%s: loss %.6f weighted %.6f" % (kind, l0, l1))


# ---------------------------------------------------------------- optimizers
SEGS = [(0, 8), (8, 2)]
STEPS = 20
# name -> config; keys follow sn_optimizer_cfg. The C test has the same table
# and checks it against the stored "<name>/cfg" vector.
CFG_KEYS = ["kind", "lr", "momentum", "nesterov", "rho", "centered", "beta1", "beta2", "epsilon",
            "legacy", "clipnorm", "clipvalue", "global_clipnorm", "weight_decay"]
KIND = {"sgd": 0, "rmsprop": 1, "adam": 2}


def cfg(kind, lr, **kw):
    c = dict(kind=KIND[kind], lr=lr, momentum=0.0, nesterov=0, rho=0.9, centered=0, beta1=0.9, beta2=0.999,
             epsilon=1e-7, legacy=0, clipnorm=0.0, clipvalue=0.0, global_clipnorm=0.0, weight_decay=0.0)
    c.update(kw)
    return c


def case_table():
    base = {
        "sgd": cfg("sgd", 0.05),
        "sgd_mom": cfg("sgd", 0.05, momentum=0.9),
        "sgd_nesterov": cfg("sgd", 0.05, momentum=0.9, nesterov=1),
        "rmsprop": cfg("rmsprop", 0.01),
        "rmsprop_centered": cfg("rmsprop", 0.01, centered=1),
        "rmsprop_mom": cfg("rmsprop", 0.01, momentum=0.9),
        "rmsprop_centered_mom": cfg("rmsprop", 0.01, centered=1, momentum=0.9),
        "adam": cfg("adam", 0.05),
    }
    clips = {"": {}, "_clipnorm": dict(clipnorm=0.5), "_clipvalue": dict(clipvalue=0.1),
             "_gclip": dict(global_clipnorm=0.5)}
    table = {}
    for bn, bc in base.items():
        for cn, cc in clips.items():
            c = dict(bc)
            c.update(cc)
            table[bn + cn] = c
    table["adam_wd"] = cfg("adam", 0.05, weight_decay=0.1)
    table["sgd_mom_wd"] = cfg("sgd", 0.05, momentum=0.9, weight_decay=0.1)
    table["rmsprop_legacy"] = cfg("rmsprop", 0.01, legacy=1)
    table["rmsprop_legacy_centered"] = cfg("rmsprop", 0.01, legacy=1, centered=1)
    # with momentum tf.keras 2 used TF's ApplyRMSProp kernel, ε inside the sqrt; ε 0.1 makes it show
    table["rmsprop_legacy_mom"] = cfg("rmsprop", 0.01, legacy=1, momentum=0.9, epsilon=0.1)
    table["adam_eps"] = cfg("adam", 0.05, epsilon=0.1)   # ε large enough that its placement shows
    table["rmsprop_eps"] = cfg("rmsprop", 0.01, epsilon=0.1)
    table["rmsprop_legacy_eps"] = cfg("rmsprop", 0.01, epsilon=0.1, legacy=1)
    return table


def problem(rng):
    X = f32(rng.normal(size=(16, 4)))
    Wt = rng.normal(size=(2, 4))
    bt = rng.normal(size=2)
    Y = f32(X.astype(np.float64) @ Wt.T + bt + 0.1 * rng.normal(size=(16, 2)))
    w0 = f32(rng.normal(size=10))
    return X, Y, w0


def grad_of(w, X, Y):
    """float64 gradient of mean((X Wᵀ + b − Y)²) at float32 w, rounded to float32."""
    wd = w.astype(np.float64)
    W, b = wd[:8].reshape(2, 4), wd[8:]
    E = X.astype(np.float64) @ W.T + b - Y.astype(np.float64)
    scale = 2.0 / E.size
    gW = scale * (E.T @ X.astype(np.float64))
    gb = scale * E.sum(axis=0)
    return f32(np.concatenate([gW.reshape(-1), gb]))


def keras_clip(c, g):
    g = g.clone()
    if c["clipvalue"] > 0:
        v = np.float32(c["clipvalue"])
        return g.clamp(-float(v), float(v))
    if c["clipnorm"] > 0:
        for off, n in SEGS:
            nrm = float(torch.sqrt((g[off:off + n].double() ** 2).sum()))
            f = c["clipnorm"] / max(nrm, c["clipnorm"])
            g[off:off + n] = (g[off:off + n].double() * f).float()
    elif c["global_clipnorm"] > 0:
        G = float(torch.sqrt((g.double() ** 2).sum()))
        f = c["global_clipnorm"] / max(G, c["global_clipnorm"])
        g = (g.double() * f).float()
    return g


def f(x):
    """A python scalar rounded to float32, as Keras casts hyper-parameters to the variable dtype."""
    return torch.tensor(x, dtype=torch.float32)


def keras_traj(c, X, Y, w0):
    """Keras 3 apply(): clip, decoupled weight decay, update_step; float32 tensors."""
    w = torch.tensor(w0.copy())
    m = torch.zeros(10)
    v = torch.zeros(10)
    u = torch.zeros(10)
    lr = f(c["lr"])
    out = []
    for it in range(STEPS):
        g = keras_clip(c, torch.tensor(grad_of(w.numpy(), X, Y)))
        if c["weight_decay"] > 0:
            w = w - w * f(c["lr"] * c["weight_decay"])
        if c["kind"] == 0:
            mu = f(c["momentum"])
            if c["momentum"] > 0:
                m = m * mu - g * lr
                w = w + (m * mu - g * lr) if c["nesterov"] else w + m
            else:
                w = w - g * lr
        elif c["kind"] == 1:
            rho, omr, eps = f(c["rho"]), f(1.0 - c["rho"]), f(c["epsilon"])
            m = rho * m + omr * (g * g)
            d = m
            if c["centered"]:
                v = rho * v + omr * g
                d = d - v * v
            if c["legacy"] and c["momentum"] == 0:
                inc = (lr * g) / (torch.sqrt(d) + eps)   # tf.keras <= 2.10, eps outside
            else:
                inc = (lr * g) / torch.sqrt(d + eps)     # Keras 3; TF's momentum kernels
            if c["momentum"] > 0:
                u = f(c["momentum"]) * u + inc
                w = w - u
            else:
                w = w - inc
        else:
            t = it + 1
            alpha = f(c["lr"] * np.sqrt(1.0 - c["beta2"] ** t) / (1.0 - c["beta1"] ** t))
            m = m + (g - m) * f(1.0 - c["beta1"])
            v = v + (g * g - v) * f(1.0 - c["beta2"])
            w = w - (m * alpha) / (torch.sqrt(v) + f(c["epsilon"]))
        out.append(w.numpy().copy())
    return np.stack(out)


def torch_optim_traj(c, X, Y, w0):
    """The same problem stepped by torch.optim (only where its maths equals ours)."""
    p = torch.nn.Parameter(torch.tensor(w0.copy()))
    if c["kind"] == 0:
        opt = torch.optim.SGD([p], lr=c["lr"], momentum=c["momentum"], nesterov=bool(c["nesterov"]))
    else:
        assert c["legacy"] and c["momentum"] == 0
        opt = torch.optim.RMSprop([p], lr=c["lr"], alpha=c["rho"], eps=c["epsilon"], centered=bool(c["centered"]))
    out = []
    for _ in range(STEPS):
        opt.zero_grad()
        p.grad = torch.tensor(grad_of(p.detach().numpy(), X, Y))
        if c["clipvalue"] > 0:
            torch.nn.utils.clip_grad_value_([p], c["clipvalue"])
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.stack(out)


def gen_optim(rng):
    X, Y, w0 = problem(rng)
    tensors = {"X": X, "Y": Y, "w0": w0}
    table = case_table()
    torch_ref = ["sgd", "sgd_mom", "sgd_nesterov", "sgd_clipvalue", "rmsprop_legacy", "rmsprop_legacy_centered",
                 "rmsprop_legacy_eps"]
    g0 = grad_of(w0, X, Y)
    print("initial grad norm %.3f (segments %.3f, %.3f), max |g| %.3f" % (
        np.linalg.norm(g0), np.linalg.norm(g0[:8]), np.linalg.norm(g0[8:]), np.abs(g0).max()))
    for name, c in table.items():
        traj = keras_traj(c, X, Y, w0)
        tensors[name + "/cfg"] = [float(c[k]) for k in CFG_KEYS]
        tensors[name + "/traj"] = traj
        if name in torch_ref:
            tt = torch_optim_traj(c, X, Y, w0)
            tensors[name + "/torch"] = tt
            d = np.abs(tt - traj).max()
            print("%-28s torch.optim vs hand: max abs diff %.2e" % (name, d))
            if c["kind"] == 0:
                assert d < 1e-5, name  # Keras SGD == torch SGD
        loss_end = np.mean((X @ traj[-1][:8].reshape(2, 4).T + traj[-1][8:] - Y) ** 2)
        print("%-28s loss after %d steps %.4f" % (name, STEPS, loss_end))
    snfx.write(os.path.join(OUT, "optim_traj.bin"), tensors)


def main():
    torch.set_num_threads(1)
    gen_losses(np.random.default_rng(20261127))
    gen_optim(np.random.default_rng(7))


if __name__ == "__main__":
    main()
