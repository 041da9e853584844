"""PyTorch reference fixtures for the recurrent layers (SimpleRNN, LSTM, GRU,
Bidirectional, stacks, go_backwards, masked variable-length batches). Run with
Debian's torch:

    /usr/bin/python3 tests/gen_rnn_fixtures.py

Writes tests/fixtures/rnn_torch.bin, read by tests/test_rnn_torch.c. Every
case "<case>/..." holds
  x (B,T,C) input (float32 values; the computation runs in float64),
  mask (B,T) 0/1 when the case is masked,
  dy upstream gradient of the loss sum(y * dy), y the expected Keras-layout
  output, dx the input gradient,
  and per recurrent layer L ("l0", "l1"; a bidirectional layer's backward
  direction is "l0r"): L/w_ih, L/w_hh, L/b_ih, L/b_hh in torch layout and
  their gradients L/g_w_ih, ... ; single unmasked layers also h_n (and c_n).
Semantics reproduced on the torch side (docs/keras-semantics.md §1-§4):
  go_backwards   → torch on x.flip(1); output kept in processing order;
  Bidirectional  → torch bidirectional=True; return_sequences=False takes
                   forward's last output and backward's output at t = 0;
  masking        → torch runs each row UNPADDED (alone); the Keras output is
                   rebuilt: return_sequences=False gives the last valid
                   output; return_sequences=True repeats the previous output
                   at masked steps (zeros before the first valid step), or
                   zeros in both halves inside Bidirectional; a fully masked
                   row outputs zeros.
"""
import os

import numpy as np
import torch

import snfx

torch.manual_seed(1234)
DT = torch.float64
HERE = os.path.dirname(os.path.abspath(__file__))


def f32(t):
    """Rounds a tensor to float32-representable values (kept in float64)."""
    return t.to(torch.float32).to(DT)


def make(kind, C, H, bidirectional=False):
    cls = {"simple": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    m = cls(C, H, batch_first=True, bidirectional=bidirectional).to(DT)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(f32(torch.randn_like(p) * 0.5))
    return m


def layer_tensors(out, prefix, m, suffix=""):
    for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
        tn = {"w_ih": "weight_ih_l0", "w_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}[name] + suffix
        p = getattr(m, tn)
        out[prefix + "/" + name] = p.detach().numpy()
        out[prefix + "/g_" + name] = p.grad.detach().numpy()


def run_seq(m, x):
    """Torch output (B,T,H or 2H) and final states."""
    out, st = m(x)
    return out, st


def keras_row(m, xr, rs, back, bi, H):
    """Keras-layout output for ONE unpadded row xr (1,L,C) (L may be 0):
    returns (seq (L, W) in processing order or None, last (W))."""
    L = xr.shape[1]
    W = 2 * H if bi else H
    if L == 0:
        return torch.zeros(0, W, dtype=DT), torch.zeros(W, dtype=DT)
    xin = xr.flip(1) if back else xr
    out, _ = m(xin)
    out = out[0]
    if bi:
        last = torch.cat([out[-1, :H], out[0, H:]])
    else:
        last = out[-1]
    return out, last


def masked_case(name, kind, C, H, lengths, T, left, rs, bi=False, back=False, bi_inner=None):
    B = len(lengths)
    m = make(kind, C, H, bidirectional=bi)
    raw = f32(torch.randn(B, T, C, dtype=DT))
    x = torch.zeros(B, T, C, dtype=DT)
    mask = torch.zeros(B, T, dtype=DT)
    for b, L in enumerate(lengths):
        t0 = T - L if left else 0
        x[b, t0:t0 + L] = raw[b, :L]
        mask[b, t0:t0 + L] = 1
    x.requires_grad_(True)
    W = 2 * H if bi else H
    ys = []
    for b, L in enumerate(lengths):
        t0 = T - L if left else 0
        xr = x[b:b + 1, t0:t0 + L]
        seq, last = keras_row(m, xr, rs, back, bi, H)
        if not rs:
            ys.append(last)
            continue
        # rebuild the (T, W) Keras sequence
        rows = []
        if bi:
            # zero_output_for_mask: zeros at masked positions, valid ones in input order
            for t in range(T):
                if t0 <= t < t0 + L:
                    rows.append(seq[t - t0])
                else:
                    rows.append(torch.zeros(W, dtype=DT))
        else:
            # processing order k; the input time of step k is t = k (or T-1-k)
            prev = torch.zeros(W, dtype=DT)
            j = 0
            for k in range(T):
                t = T - 1 - k if back else k
                if t0 <= t < t0 + L:
                    prev = seq[j]
                    j += 1
                rows.append(prev)
        ys.append(torch.stack(rows))
    y = torch.stack(ys)
    dy = f32(torch.randn_like(y))
    (y * dy).sum().backward()
    out = {"x": x.detach().numpy(), "mask": mask.numpy(), "dy": dy.numpy(), "y": y.detach().numpy(),
           "dx": x.grad.numpy()}
    t = {}
    layer_tensors(t, "l0", m)
    if bi:
        layer_tensors(t, "l0r", m, "_reverse")
    out.update(t)
    return {name + "/" + k: v for k, v in out.items()}


def plain_case(name, kind, C, H, B, T, rs, back=False, bi=False, stack=None):
    """Unmasked: single layer, go_backwards, bidirectional, or a 2-layer stack
    (stack = (kind2, H2, rs2): layer 0 returns sequences into layer 1)."""
    m = make(kind, C, H, bidirectional=bi)
    x = f32(torch.randn(B, T, C, dtype=DT)).requires_grad_(True)
    xin = x.flip(1) if back else x
    out, st = m(xin)
    extra = {}
    if stack:
        k2, H2, rs2 = stack
        m2 = make(k2, H, H2)
        out2, st2 = m2(out)
        y = out2 if rs2 else out2[:, -1]
    elif bi:
        y = out if rs else torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)
    else:
        y = out if rs else out[:, -1]
        if kind == "lstm":
            extra["h_n"] = st[0][0].detach().numpy()
            extra["c_n"] = st[1][0].detach().numpy()
        else:
            extra["h_n"] = st[0].detach().numpy()
    dy = f32(torch.randn_like(y))
    (y * dy).sum().backward()
    res = {"x": x.detach().numpy(), "dy": dy.numpy(), "y": y.detach().numpy(), "dx": x.grad.numpy()}
    res.update(extra)
    layer_tensors(res, "l0", m)
    if bi:
        layer_tensors(res, "l0r", m, "_reverse")
    if stack:
        layer_tensors(res, "l1", m2)
    return {name + "/" + k: v for k, v in res.items()}


def main():
    t = {}
    C, H, B, T = 4, 5, 3, 6
    t.update(plain_case("simple_seq", "simple", C, H, B, T, rs=True))
    t.update(plain_case("simple_last", "simple", C, H, B, T, rs=False))
    t.update(plain_case("lstm_last", "lstm", C, H, B, T, rs=False))
    t.update(plain_case("lstm_seq", "lstm", C, H, B, T, rs=True))
    t.update(plain_case("gru_seq", "gru", C, H, B, T, rs=True))
    t.update(plain_case("gru_last", "gru", C, H, B, T, rs=False))
    t.update(plain_case("gru_back_seq", "gru", C, H, B, T, rs=True, back=True))
    t.update(plain_case("lstm_back_last", "lstm", C, H, B, T, rs=False, back=True))
    t.update(plain_case("stack_lstm_gru", "lstm", C, H, B, T, rs=True, stack=("gru", 4, False)))
    t.update(plain_case("stack_gru_simple", "gru", C, H, B, T, rs=True, stack=("simple", 3, True)))
    t.update(plain_case("bi_lstm_seq", "lstm", C, H, B, T, rs=True, bi=True))
    t.update(plain_case("bi_gru_last", "gru", C, H, B, T, rs=False, bi=True))
    lens = [6, 3, 0, 1]
    for left in (0, 1):
        side = "left" if left else "right"
        t.update(masked_case("mask_lstm_last_" + side, "lstm", C, H, lens, T, left, rs=False))
        t.update(masked_case("mask_lstm_seq_" + side, "lstm", C, H, lens, T, left, rs=True))
        t.update(masked_case("mask_gru_back_seq_" + side, "gru", C, H, lens, T, left, rs=True, back=True))
        t.update(masked_case("mask_simple_last_" + side, "simple", C, H, lens, T, left, rs=False))
        t.update(masked_case("mask_bi_lstm_last_" + side, "lstm", C, H, lens, T, left, rs=False, bi=True))
        t.update(masked_case("mask_bi_gru_seq_" + side, "gru", C, H, lens, T, left, rs=True, bi=True))
    path = os.path.join(HERE, "fixtures", "rnn_torch.bin")
    snfx.write(path, t)
    print("wrote", path, len(t), "tensors")


if __name__ == "__main__":
    main()
