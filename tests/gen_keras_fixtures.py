#!/usr/bin/python3
"""Writes the Keras-format fixtures of tests/test_keras_*.c with h5py and
zipfile (no Keras needed), and their expected outputs computed by an
independent float64 NumPy re-implementation of Keras inference.

    /usr/bin/python3 tests/gen_keras_fixtures.py     # from the repository root

Files (tests/fixtures/keras/):
  <case>.keras        Keras 3 archives in the layout of keras/src/saving/
                      saving_lib.py: metadata.json, config.json (Keras 3's
                      serialization: module / class_name / config /
                      registered_name / build_config) and model.weights.h5
                      (/vars, layers/<snake class>[_N]/vars/<i>, recurrent
                      cells in .../cell/vars, Bidirectional in
                      .../forward_layer/cell/vars and .../backward_layer/cell/vars)
  <case>_x.npy, <case>_y.npy   input batch and the float64 reference output
  legacy_*.h5, *.json          Keras 2 / tf.keras / Keras 3 legacy HDF5 layouts
  bad_*                        refusals: unknown layer, branching model,
                               truncated / corrupt archives and HDF5, a weight
                               of the wrong shape
The weights are drawn from a fixed seed and no times are stored, so running
this again gives the same files."""
import io
import json
import os
import zipfile

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "keras")
RNG = np.random.default_rng(20240611)

# ---------------------------------------------------------------- reference math (float64)

def hard_sigmoid(x, major):
    return np.clip(0.2 * x + 0.5, 0, 1) if major < 3 else np.clip(x / 6.0 + 0.5, 0, 1)


def act(name, x, major=3):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "hard_sigmoid":
        return hard_sigmoid(x, major)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name == "softsign":
        return x / (1 + np.abs(x))
    if name == "softplus":
        return np.logaddexp(0, x)
    if name == "elu":
        return np.where(x > 0, x, np.expm1(x))
    if name == "selu":
        a, s = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
        return s * np.where(x > 0, x, a * np.expm1(x))
    raise ValueError(name)


def rnn_ref(kind, cfg, w, x, mask=None, zero_output_for_mask=False, major=3):
    """x: (B,T,C); returns (B,T,H) outputs in processing order or (B,H)."""
    B, T, _ = x.shape
    H = cfg["units"]
    a, ra = cfg.get("activation", "tanh"), cfg.get("recurrent_activation", "sigmoid")
    K, U = w[0], w[1]
    bias = w[2] if len(w) > 2 else None
    order = range(T - 1, -1, -1) if cfg.get("go_backwards") else range(T)
    h = np.zeros((B, H))
    c = np.zeros((B, H))
    outs = []
    prev_out = np.zeros((B, H))
    for t in order:
        xt = x[:, t, :]
        if kind == "SimpleRNN":
            z = xt @ K + h @ U + (bias if bias is not None else 0)
            hn, cn = act(a, z, major), c
        elif kind == "LSTM":
            z = xt @ K + h @ U + (bias if bias is not None else 0)
            i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
            cn = act(ra, f, major) * c + act(ra, i, major) * act(a, g, major)
            hn = act(ra, o, major) * act(a, cn, major)
        else:  # GRU
            ra_after = cfg.get("reset_after", True)
            if ra_after:
                bx = bias[0] if bias is not None else 0
                bh = bias[1] if bias is not None else 0
            else:
                bx, bh = (bias if bias is not None else 0), 0
            xz = xt @ K + bx
            if ra_after:
                hz = h @ U + bh
                z = act(ra, xz[:, :H] + hz[:, :H], major)
                r = act(ra, xz[:, H:2 * H] + hz[:, H:2 * H], major)
                hh = act(a, xz[:, 2 * H:] + r * hz[:, 2 * H:], major)
            else:
                hz = h @ U[:, :2 * H]
                z = act(ra, xz[:, :H] + hz[:, :H], major)
                r = act(ra, xz[:, H:2 * H] + hz[:, H:2 * H], major)
                hh = act(a, xz[:, 2 * H:] + (r * h) @ U[:, 2 * H:], major)
            hn, cn = z * h + (1 - z) * hh, c
        if mask is not None:
            m = mask[:, t][:, None]
            h = np.where(m, hn, h)
            c = np.where(m, cn, c)
            out = np.where(m, hn, 0 if zero_output_for_mask else prev_out)
        else:
            h, c, out = hn, cn, hn
        prev_out = out
        outs.append(out)
    if cfg.get("return_sequences"):
        return np.stack(outs, axis=1)
    return h


def bidi_ref(cfg, wf, wb, x, mask, major=3):
    inner = cfg["layer"]["config"]
    kind = cfg["layer"]["class_name"]
    bcfg = cfg["backward_layer"]["config"] if cfg.get("backward_layer") else dict(inner, go_backwards=not inner.get("go_backwards", False))
    rs = inner.get("return_sequences", False)
    yf = rnn_ref(kind, inner, wf, x, mask, rs, major)
    yb = rnn_ref(kind, bcfg, wb, x, mask, rs, major)
    if rs:
        yb = yb[:, ::-1, :]
    mm = cfg.get("merge_mode", "concat")
    if mm == "concat":
        return np.concatenate([yf, yb], axis=-1)
    return {"sum": yf + yb, "mul": yf * yb, "ave": (yf + yb) / 2}[mm]


def conv1d_ref(cfg, w, x):
    K, b = w[0], (w[1] if len(w) > 1 else None)
    k, s, d = cfg["kernel_size"][0], cfg["strides"][0], cfg["dilation_rate"][0]
    B, L, C = x.shape
    span = d * (k - 1) + 1
    pad = cfg["padding"]
    if pad == "valid":
        lout, pl = (L - span) // s + 1, 0
    elif pad == "same":
        lout = -(-L // s)
        P = max((lout - 1) * s + span - L, 0)
        pl = P // 2
    else:
        lout, pl = (L + d * (k - 1) - span) // s + 1, d * (k - 1)
    y = np.zeros((B, lout, K.shape[2]))
    for t in range(lout):
        for j in range(k):
            p = t * s + j * d - pl
            if 0 <= p < L:
                y[:, t, :] += x[:, p, :] @ K[j]
    if b is not None:
        y += b
    return act(cfg["activation"], y)


def maxpool_ref(cfg, x):
    p, s = cfg["pool_size"][0], cfg["strides"][0]
    B, L, C = x.shape
    if cfg["padding"] == "valid":
        lout, pl = (L - p) // s + 1, 0
    else:
        lout = -(-L // s)
        pl = max((lout - 1) * s + p - L, 0) // 2
    y = np.full((B, lout, C), -np.inf)
    for t in range(lout):
        for j in range(p):
            q = t * s + j - pl
            if 0 <= q < L:
                y[:, t, :] = np.maximum(y[:, t, :], x[:, q, :])
    return y


def forward(model, x):
    """Runs the model description (list of layer dicts) on x."""
    mask = None
    major = model.get("major", 3)
    for L in model["layers"]:
        c, w, cls = L.get("ref_config", L["config"]), L.get("weights", []), L["class_name"]
        if cls == "Dense":
            x = act(c["activation"], x @ w[0] + (w[1] if c.get("use_bias", True) else 0), major)
        elif cls == "Activation":
            x = act(c["activation"], x, major)
        elif cls == "Dropout":
            pass
        elif cls == "Flatten":
            x = x.reshape(x.shape[0], -1)
            mask = None
        elif cls == "Reshape":
            x = x.reshape((x.shape[0],) + tuple(c["target_shape"]))
            mask = None
        elif cls == "Conv1D":
            x, mask = conv1d_ref(c, w, x), None
        elif cls == "MaxPooling1D":
            x, mask = maxpool_ref(c, x), None
        elif cls == "GlobalAveragePooling1D":
            if mask is None:
                x = x.mean(axis=1)
            else:
                m = mask[:, :, None].astype(float)
                x = (x * m).sum(axis=1) / m.sum(axis=1)
            mask = None
        elif cls == "GlobalMaxPooling1D":
            x, mask = x.max(axis=1), None
        elif cls == "BatchNormalization":
            g, b, mu, var = w
            x = g * (x - mu) / np.sqrt(var + c["epsilon"]) + b
        elif cls == "LayerNormalization":
            g, b = w
            mu = x.mean(axis=-1, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
            x = (x - mu) / np.sqrt(var + c["epsilon"]) * g + b
        elif cls == "Embedding":
            ids = x.astype(np.int64)
            mask = ids != 0 if c.get("mask_zero") else None
            x = w[0][ids]
        elif cls == "Masking":
            mask = np.any(x != c["mask_value"], axis=-1)
            x = x * mask[:, :, None]
        elif cls in ("SimpleRNN", "LSTM", "GRU"):
            x = rnn_ref(cls, c, w, x, mask, False, major)
            if not c.get("return_sequences"):
                mask = None
        elif cls == "Bidirectional":
            n = len(w) // 2
            x = bidi_ref(c, w[:n], w[n:], x, mask, major)
            if not c["layer"]["config"].get("return_sequences"):
                mask = None
        else:
            raise ValueError(cls)
    return x

# ---------------------------------------------------------------- Keras 3 serialization

DTYPE = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def init(cls, **cfg):
    return {"module": "keras.initializers", "class_name": cls, "config": dict({"seed": None}, **cfg) if cls not in ("Zeros", "Ones") else {}, "registered_name": None}


RNN_DEFAULTS = dict(activation="tanh", recurrent_activation="sigmoid", use_bias=True, return_sequences=False,
                    return_state=False, go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                    dropout=0.0, recurrent_dropout=0.0, seed=None, kernel_initializer=init("GlorotUniform"),
                    recurrent_initializer=init("Orthogonal", gain=1.0), bias_initializer=init("Zeros"),
                    kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                    activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None)


def k3_layer(cls, name, **cfg):
    c = {"name": name, "trainable": True, "dtype": DTYPE}
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        c.update(RNN_DEFAULTS)
        if cls == "SimpleRNN":
            del c["recurrent_activation"]
        if cls == "LSTM":
            c["unit_forget_bias"] = True
        if cls == "GRU":
            c["reset_after"] = True
    if cls == "Dense":
        c.update(activation="linear", use_bias=True, kernel_initializer=init("GlorotUniform"), bias_initializer=init("Zeros"))
    if cls == "Conv1D":
        c.update(strides=[1], padding="valid", data_format="channels_last", dilation_rate=[1], groups=1,
                 activation="linear", use_bias=True, kernel_initializer=init("GlorotUniform"), bias_initializer=init("Zeros"))
    if cls == "MaxPooling1D":
        c.update(pool_size=[2], strides=None, padding="valid", data_format="channels_last")
    if cls in ("BatchNormalization", "LayerNormalization"):
        c.update(axis=-1, epsilon=0.001, center=True, scale=True)
        if cls == "BatchNormalization":
            c["momentum"] = 0.99
    c.update(cfg)
    if cls == "MaxPooling1D" and c["strides"] is None:
        c["strides"] = c["pool_size"]
    return {"module": "keras.layers", "class_name": cls, "config": c, "registered_name": None}


def rnn_weights(cls, C, cfg):
    H = cfg["units"]
    G = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[cls]
    w = [RNG.uniform(-0.6, 0.6, (C, G * H)), RNG.uniform(-0.6, 0.6, (H, G * H))]
    if cfg.get("use_bias", True):
        if cls == "GRU" and cfg.get("reset_after", True):
            w.append(RNG.uniform(-0.3, 0.3, (2, G * H)))
        else:
            w.append(RNG.uniform(-0.3, 0.3, (G * H,)))
    return w


def out_shape(L, shape):
    """Output shape (no batch) of a layer dict on input shape."""
    x = np.zeros((1,) + tuple(shape))
    if L["class_name"] == "Embedding":
        x = np.ones((1,) + tuple(shape))
    return forward({"layers": [L]}, x).shape[1:]


def make_weights(L, shape):
    """Fills L['weights'] for input shape (no batch)."""
    c, cls = L.get("ref_config", L["config"]), L["class_name"]
    C = shape[-1] if shape else None
    if cls == "Dense":
        L["weights"] = [RNG.uniform(-0.7, 0.7, (C, c["units"]))] + ([RNG.uniform(-0.2, 0.2, (c["units"],))] if c.get("use_bias", True) else [])
    elif cls == "Conv1D":
        L["weights"] = [RNG.uniform(-0.5, 0.5, (c["kernel_size"][0], C, c["filters"]))] + ([RNG.uniform(-0.2, 0.2, (c["filters"],))] if c.get("use_bias", True) else [])
    elif cls == "BatchNormalization":
        L["weights"] = [RNG.uniform(0.5, 1.5, C), RNG.uniform(-0.3, 0.3, C), RNG.uniform(-0.5, 0.5, C), RNG.uniform(0.4, 2.0, C)]
    elif cls == "LayerNormalization":
        L["weights"] = [RNG.uniform(0.5, 1.5, C), RNG.uniform(-0.3, 0.3, C)]
    elif cls == "Embedding":
        L["weights"] = [RNG.uniform(-0.8, 0.8, (c["input_dim"], c["output_dim"]))]
    elif cls in ("SimpleRNN", "LSTM", "GRU"):
        L["weights"] = rnn_weights(cls, C, c)
    elif cls == "Bidirectional":
        fw = rnn_weights(c["layer"]["class_name"], C, c["layer"]["config"])
        bw = rnn_weights(c["backward_layer"]["class_name"], C, c["backward_layer"]["config"])
        L["weights"] = fw + bw
    else:
        L["weights"] = []


def snake(cls):
    import re
    s = re.sub(r"\W+", "", cls)
    s = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", s)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


def build(layers, in_shape, in_dtype="float32", major=3):
    """Weights and shapes for a chain; returns the model dict."""
    shape = tuple(in_shape)
    for L in layers:
        L["in_shape"] = shape
        make_weights(L, shape)
        L["weights"] = [np.asarray(w, dtype=np.float32).astype(np.float64) for w in L["weights"]]  # float32-exact
        shape = out_shape(L, shape)
    return {"layers": layers, "in_shape": tuple(in_shape), "in_dtype": in_dtype, "major": major}


def k3_config(model, functional=False):
    ins = {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None] + list(model["in_shape"]),
           "dtype": model["in_dtype"], "sparse": False, "name": "input_layer"}, "registered_name": None}
    layers = [ins]
    for L in model["layers"]:
        e = {k: L[k] for k in ("module", "class_name", "config", "registered_name")}
        e["build_config"] = {"input_shape": [None] + list(L["in_shape"])}
        layers.append(e)
    if functional:
        prev = "input_layer"
        for e in layers:
            e["name"] = e["config"]["name"]
            if e["class_name"] == "InputLayer":
                e["inbound_nodes"] = []
                continue
            e["inbound_nodes"] = [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [None, 1], "dtype": "float32",
                                  "keras_history": [prev, 0, 0]}}], "kwargs": {"training": False}}]
            prev = e["name"]
        return {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "functional",
                "trainable": True, "layers": layers, "input_layers": [["input_layer", 0, 0]], "output_layers": [[prev, 0, 0]]},
                "registered_name": "Functional", "build_config": {"input_shape": None}}
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": True, "dtype": DTYPE,
            "layers": layers, "build_input_shape": [None] + list(model["in_shape"])}, "registered_name": None,
            "build_config": {"input_shape": [None] + list(model["in_shape"])}}


def k3_weights(model):
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        f.create_group("vars")
        used = {}
        for L in model["layers"]:
            base = snake(L["class_name"])
            if base in used:
                used[base] += 1
                name = "%s_%d" % (base, used[base])
            else:
                used[base] = 0
                name = base
            g = "layers/" + name
            f.create_group(g + "/vars")
            w = [np.asarray(a, dtype=np.float32) for a in L["weights"]]
            if L["class_name"] in ("SimpleRNN", "LSTM", "GRU"):
                parts = [(g + "/cell/vars", w)]
            elif L["class_name"] == "Bidirectional":
                n = len(w) // 2
                for sub in ("forward_layer", "backward_layer"):
                    f.create_group(g + "/" + sub + "/vars")
                parts = [(g + "/forward_layer/cell/vars", w[:n]), (g + "/backward_layer/cell/vars", w[n:])]
            else:
                parts = [(g + "/vars", w)]
            for p, ws in parts:
                grp = f.require_group(p)
                for i, a in enumerate(ws):
                    grp.create_dataset(str(i), data=a, track_times=False)
    return bio.getvalue()


def zput(z, name, data):
    """A member with a fixed timestamp (the archive bytes do not change from run to run)."""
    z.writestr(zipfile.ZipInfo(name, date_time=(2024, 6, 11, 12, 0, 0)), data)


def write_keras(name, model, functional=False, version="3.3.3"):
    cfg = k3_config(model, functional)
    meta = {"keras_version": version, "date_saved": "2024-06-11@12:00:00"}
    with zipfile.ZipFile(os.path.join(OUT, name + ".keras"), "w") as z:
        zput(z, "metadata.json", json.dumps(meta))
        zput(z, "config.json", json.dumps(cfg))
        zput(z, "model.weights.h5", k3_weights(model))


def save_io(name, model, x):
    y = forward(model, x.astype(np.float64))
    np.save(os.path.join(OUT, name + "_x.npy"), x.astype(np.float32))
    np.save(os.path.join(OUT, name + "_y.npy"), y.astype(np.float64))


def case(name, layers, in_shape, x, functional=False, in_dtype="float32"):
    m = build(layers, in_shape, in_dtype)
    write_keras(name, m, functional)
    save_io(name, m, x)
    return m


def rnd(*shape):
    return RNG.uniform(-1, 1, shape).astype(np.float32)

# ---------------------------------------------------------------- the cases


def keras3_cases():
    L = k3_layer
    case("dense", [L("Dense", "d1", units=5, activation="relu"), L("Dense", "d2", units=3, activation="softmax")], (6,), rnd(4, 6))
    case("seq_dense", [L("Dense", "d1", units=5, activation="tanh"), L("Activation", "act", activation="sigmoid"),
                       L("Dropout", "drop", rate=0.3, noise_shape=None, seed=None), L("Flatten", "flat", data_format="channels_last"),
                       L("Dense", "out", units=2)], (4, 3), rnd(3, 4, 3))
    case("conv", [L("Conv1D", "c1", filters=4, kernel_size=[3], padding="same", activation="relu"),
                  L("MaxPooling1D", "p1", pool_size=[2]),
                  L("Conv1D", "c2", filters=3, kernel_size=[2], strides=[2], padding="causal"),
                  L("GlobalAveragePooling1D", "gap", data_format="channels_last", keepdims=False),
                  L("Dense", "out", units=1)], (12, 3), rnd(3, 12, 3))
    case("conv_dilated", [L("Conv1D", "c1", filters=4, kernel_size=[3], dilation_rate=[2], activation="tanh"),
                          L("MaxPooling1D", "p1", pool_size=[3], strides=[2], padding="same"),
                          L("GlobalMaxPooling1D", "gmp", data_format="channels_last", keepdims=False),
                          L("Dense", "out", units=2)], (11, 2), rnd(3, 11, 2))
    case("norm", [L("BatchNormalization", "bn", epsilon=0.01), L("LayerNormalization", "ln", epsilon=0.001),
                  L("Flatten", "flat", data_format="channels_last"), L("Dense", "out", units=1)], (5, 4), rnd(3, 5, 4))
    case("simplernn", [L("SimpleRNN", "r1", units=4, return_sequences=True),
                       L("SimpleRNN", "r2", units=3, go_backwards=True, activation="relu"),
                       L("Dense", "out", units=1)], (6, 3), rnd(3, 6, 3))
    case("lstm", [L("LSTM", "l1", units=5, return_sequences=True), L("LSTM", "l2", units=4),
                  L("Dense", "out", units=1)], (7, 3), rnd(3, 7, 3))
    case("gru", [L("GRU", "g1", units=4, return_sequences=True), L("GRU", "g2", units=3, reset_after=False),
                 L("Dense", "out", units=1)], (6, 3), rnd(3, 6, 3))
    def bidi(name, inner_cls, merge, **kw):
        inner = L(inner_cls, "inner", units=kw.pop("units", 3), **kw)
        back = json.loads(json.dumps(inner))
        back["config"]["name"] = "backward_inner"
        back["config"]["go_backwards"] = not inner["config"]["go_backwards"]
        inner["config"]["name"] = "forward_inner"
        return L("Bidirectional", name, merge_mode=merge, layer=inner, backward_layer=back)
    case("bidirectional", [bidi("b1", "LSTM", "concat", return_sequences=True), bidi("b2", "GRU", "sum", units=2, return_sequences=True),
                           bidi("b3", "SimpleRNN", "mul", return_sequences=True), bidi("b4", "LSTM", "ave", units=2),
                           L("Dense", "out", units=1)], (5, 3), rnd(3, 5, 3))
    ids = np.array([[3, 1, 4, 1, 5, 0, 0], [9, 2, 6, 5, 3, 5, 8], [0, 0, 7, 9, 3, 0, 0], [2, 7, 0, 0, 0, 0, 0]], dtype=np.float32)
    case("embedding_masked", [L("Embedding", "emb", input_dim=10, output_dim=4, mask_zero=True,
                                embeddings_initializer=init("RandomUniform", minval=-0.05, maxval=0.05)),
                              L("LSTM", "l1", units=3, return_sequences=True), L("GRU", "g1", units=2),
                              L("Dense", "out", units=1, activation="sigmoid")], (7,), ids, in_dtype="int32")
    ids2 = ids.copy()
    case("embedding_bidi_masked", [L("Embedding", "emb", input_dim=10, output_dim=3, mask_zero=True),
                                   bidi("bi", "LSTM", "concat", units=2),
                                   L("Dense", "out", units=1)], (7,), ids2, in_dtype="int32")
    xm = rnd(4, 6, 3)
    xm[0, 4:] = 0
    xm[1, :2] = 0
    xm[2, 2] = 0
    case("masking", [L("Masking", "mask", mask_value=0.0), L("SimpleRNN", "r1", units=4, return_sequences=True),
                     L("LSTM", "l1", units=2), L("Dense", "out", units=1)], (6, 3), xm)
    case("functional", [L("LSTM", "enc", units=4), L("Dense", "hid", units=3, activation="relu"), L("Dense", "out", units=1)],
         (5, 2), rnd(3, 5, 2), functional=True)
    # needs the activations, Reshape and the backward_layer of a different configuration
    case("activations", [L("Dense", "a1", units=5, activation="softsign"), L("Dense", "a2", units=5, activation="softplus"),
                         L("Dense", "a3", units=5, activation="elu"), L("Dense", "a4", units=5, activation="selu"),
                         L("Dense", "a5", units=5, activation="hard_sigmoid"),
                         L("LSTM", "l1", units=3, activation="softsign", recurrent_activation="hard_sigmoid", return_sequences=True),
                         L("GRU", "g1", units=3, activation="elu", recurrent_activation="softplus", return_sequences=True),
                         L("SimpleRNN", "r1", units=2, activation="selu"), L("Dense", "out", units=1)], (4, 3), rnd(3, 4, 3))
    case("reshape", [L("Reshape", "rs", target_shape=[4, 3]), L("LSTM", "l1", units=2), L("Dense", "out", units=1)], (12,), rnd(3, 12))
    inner = L("GRU", "forward_g", units=3, return_sequences=True)
    back = L("GRU", "backward_g", units=3, return_sequences=True, go_backwards=True, activation="relu", reset_after=False)
    case("bidirectional_backward_layer", [L("Bidirectional", "bi", merge_mode="concat", layer=inner, backward_layer=back),
                                          L("Flatten", "flat", data_format="channels_last"), L("Dense", "out", units=1)], (4, 2), rnd(3, 4, 2))


def legacy_cases():
    """Keras 2.1 (bare list, ":0" names), tf.keras Model (Keras 2 inbound
    nodes), Keras 3 legacy h5 (nested variable paths), weights-only + JSON."""
    lstm_cfg = {"name": "lstm_1", "trainable": True, "batch_input_shape": [None, 5, 3], "dtype": "float32", "units": 4,
                "activation": "tanh", "recurrent_activation": "hard_sigmoid", "use_bias": True, "return_sequences": True,
                "return_state": False, "go_backwards": False, "stateful": False, "unroll": False, "unit_forget_bias": True,
                "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 1,
                "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}}}
    gru_cfg = {"name": "gru_1", "trainable": True, "units": 3, "activation": "tanh", "recurrent_activation": "hard_sigmoid",
               "use_bias": True, "return_sequences": False, "go_backwards": False, "stateful": False, "unroll": False}
    dense_cfg = {"name": "dense_1", "trainable": True, "units": 2, "activation": "linear", "use_bias": True}
    # no reset_after key: Keras <= 2.1.2's GRU, reset before the recurrent product (one bias)
    layers = [{"class_name": "LSTM", "config": lstm_cfg},
              {"class_name": "GRU", "config": gru_cfg, "ref_config": dict(gru_cfg, reset_after=False)},
              {"class_name": "Dense", "config": dense_cfg}]
    m = build(layers, (5, 3), major=2)
    x = rnd(3, 5, 3)
    save_io("legacy_k21", m, x)
    cfg = {"class_name": "Sequential", "config": [{"class_name": l["class_name"], "config": l["config"]} for l in layers]}
    with h5py.File(os.path.join(OUT, "legacy_k21.h5"), "w") as f:
        f.attrs["keras_version"] = b"2.1.3"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(cfg).encode()
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([l["config"]["name"].encode() for l in layers])
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.1.3"
        for l in layers:
            lg = g.create_group(l["config"]["name"])
            names = {"LSTM": ["kernel", "recurrent_kernel", "bias"], "GRU": ["kernel", "recurrent_kernel", "bias"], "Dense": ["kernel", "bias"]}[l["class_name"]]
            wn = ["%s/%s:0" % (l["config"]["name"], n) for n in names]
            lg.attrs["weight_names"] = np.array([n.encode() for n in wn])
            for n, a in zip(wn, l["weights"]):
                lg.create_dataset(n, data=np.asarray(a, dtype=np.float32), track_times=False)
    # weights-only HDF5 + model.to_json() (Keras 2.2 dict Sequential, keras_version in the JSON)
    js = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": cfg["config"]}, "keras_version": "2.2.4", "backend": "tensorflow"}
    with open(os.path.join(OUT, "legacy_k22.json"), "w") as fp:
        json.dump(js, fp)
    with h5py.File(os.path.join(OUT, "legacy_k22_weights.h5"), "w") as f:
        f.attrs["layer_names"] = np.array([l["config"]["name"].encode() for l in layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for l in layers:
            lg = f.create_group(l["config"]["name"])
            names = {"LSTM": ["kernel", "recurrent_kernel", "bias"], "GRU": ["kernel", "recurrent_kernel", "bias"], "Dense": ["kernel", "bias"]}[l["class_name"]]
            wn = ["%s/%s:0" % (l["config"]["name"], n) for n in names]
            lg.attrs["weight_names"] = np.array([n.encode() for n in wn])
            for n, a in zip(wn, l["weights"]):
                lg.create_dataset(n, data=np.asarray(a, dtype=np.float32), track_times=False)
    # tf.keras 2.x functional "Model" with a Masking + Bidirectional + Dense chain, Keras 2 inbound nodes
    mk = {"class_name": "Masking", "config": {"name": "masking", "trainable": True, "dtype": "float32", "mask_value": 0.0}}
    bi = {"class_name": "Bidirectional", "config": {"name": "bidirectional", "trainable": True, "dtype": "float32", "merge_mode": "concat",
          "layer": {"class_name": "SimpleRNN", "config": {"name": "simple_rnn", "units": 3, "activation": "tanh", "use_bias": True,
                    "return_sequences": False, "go_backwards": False, "dropout": 0.0, "recurrent_dropout": 0.0}}}}
    bi["config"]["backward_layer"] = None
    ds = {"class_name": "Dense", "config": {"name": "dense", "trainable": True, "dtype": "float32", "units": 1, "activation": "sigmoid", "use_bias": True}}
    layers2 = [mk, bi, ds]
    bi_ref = json.loads(json.dumps(bi))
    bi_ref["config"]["backward_layer"] = {"class_name": "SimpleRNN", "config": dict(bi["config"]["layer"]["config"], go_backwards=True)}
    ref_layers = [mk, bi_ref, ds]
    m2 = build(ref_layers, (4, 2), major=2)
    bi["weights"] = bi_ref["weights"]
    x2 = rnd(3, 4, 2)
    x2[0, 3] = 0
    x2[1, 0] = 0
    save_io("legacy_tfkeras", m2, x2)
    inl = {"class_name": "InputLayer", "name": "input_1", "config": {"batch_input_shape": [None, 4, 2], "dtype": "float32",
           "sparse": False, "ragged": False, "name": "input_1"}, "inbound_nodes": []}
    prev = "input_1"
    fl = [inl]
    for l in layers2:
        e = {"class_name": l["class_name"], "name": l["config"]["name"], "config": l["config"], "inbound_nodes": [[[prev, 0, 0, {}]]]}
        prev = l["config"]["name"]
        fl.append(e)
    cfg2 = {"class_name": "Model", "config": {"name": "model", "layers": fl, "input_layers": [["input_1", 0, 0]],
            "output_layers": [["dense", 0, 0]]}, "keras_version": "2.8.0", "backend": "tensorflow"}
    with h5py.File(os.path.join(OUT, "legacy_tfkeras.h5"), "w") as f:
        f.attrs["keras_version"] = "2.8.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(cfg2)
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([b"input_1", b"masking", b"bidirectional", b"dense"])
        for nm in ("input_1", "masking"):
            g.create_group(nm).attrs["weight_names"] = np.array([], dtype=np.float64)
        w = bi_ref["weights"]
        lg = g.create_group("bidirectional")
        wn = ["bidirectional/forward_simple_rnn/simple_rnn_cell/kernel:0", "bidirectional/forward_simple_rnn/simple_rnn_cell/recurrent_kernel:0",
              "bidirectional/forward_simple_rnn/simple_rnn_cell/bias:0", "bidirectional/backward_simple_rnn/simple_rnn_cell/kernel:0",
              "bidirectional/backward_simple_rnn/simple_rnn_cell/recurrent_kernel:0", "bidirectional/backward_simple_rnn/simple_rnn_cell/bias:0"]
        lg.attrs["weight_names"] = np.array([n.encode() for n in wn])
        for n, a in zip(wn, w):
            lg.create_dataset(n, data=np.asarray(a, dtype=np.float32), track_times=False)
        lg = g.create_group("dense")
        lg.attrs["weight_names"] = np.array([b"dense/kernel:0", b"dense/bias:0"])
        lg.create_dataset("dense/kernel:0", data=np.asarray(ds["weights"][0], dtype=np.float32), track_times=False)
        lg.create_dataset("dense/bias:0", data=np.asarray(ds["weights"][1], dtype=np.float32), track_times=False)
    # Keras 3 legacy h5 (model.save("m.h5") in Keras 3): legacy config, variable paths as weight names
    L = k3_layer
    m3 = build([L("Conv1D", "conv1d", filters=2, kernel_size=[2]), L("LSTM", "lstm", units=3), L("Dense", "dense", units=1)], (6, 2))
    save_io("legacy_k3", m3, rnd(3, 6, 2))
    lc = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 6, 2], "dtype": "float32", "sparse": False, "name": "input_layer"}}]
    for l in m3["layers"]:
        lc.append({"class_name": l["class_name"], "config": l["config"]})
    with h5py.File(os.path.join(OUT, "legacy_k3.h5"), "w") as f:
        f.attrs["keras_version"] = "3.3.3"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"name": "sequential", "layers": lc}})
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([b"conv1d", b"lstm", b"dense"])
        paths = {"conv1d": ["sequential/conv1d/kernel", "sequential/conv1d/bias"],
                 "lstm": ["sequential/lstm/lstm_cell/kernel", "sequential/lstm/lstm_cell/recurrent_kernel", "sequential/lstm/lstm_cell/bias"],
                 "dense": ["sequential/dense/kernel", "sequential/dense/bias"]}
        for l in m3["layers"]:
            nm = l["config"]["name"]
            lg = g.create_group(nm)
            lg.attrs["weight_names"] = np.array([p.encode() for p in paths[nm]])
            for p, a in zip(paths[nm], l["weights"]):
                lg.create_dataset(p, data=np.asarray(a, dtype=np.float32), track_times=False)
        g.create_group("top_level_model_weights").attrs["weight_names"] = np.array([], dtype=np.float64)


def bad_cases():
    L = k3_layer
    m = build([L("Dense", "d1", units=3), L("Dense", "d2", units=1)], (4,))
    cfg = k3_config(m)
    cfg["config"]["layers"][1]["class_name"] = "GaussianNoise"
    cfg["config"]["layers"][1]["config"] = {"name": "noisy", "stddev": 0.1, "trainable": True}
    with zipfile.ZipFile(os.path.join(OUT, "bad_unknown_layer.keras"), "w") as z:
        zput(z, "metadata.json", json.dumps({"keras_version": "3.3.3"}))
        zput(z, "config.json", json.dumps(cfg))
        zput(z, "model.weights.h5", k3_weights(m))
    # branching Functional: input -> d1, input -> d2, add
    fc = k3_config(m, functional=True)
    lay = fc["config"]["layers"]
    lay[2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["input_layer", 0, 0]
    add = {"module": "keras.layers", "class_name": "Add", "config": {"name": "add", "trainable": True}, "registered_name": None, "name": "add",
           "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__", "config": {"keras_history": ["d1", 0, 0]}},
                                        {"class_name": "__keras_tensor__", "config": {"keras_history": ["d2", 0, 0]}}]], "kwargs": {}}]}
    lay.append(add)
    fc["config"]["output_layers"] = [["add", 0, 0]]
    with zipfile.ZipFile(os.path.join(OUT, "bad_branching.keras"), "w") as z:
        zput(z, "metadata.json", json.dumps({"keras_version": "3.3.3"}))
        zput(z, "config.json", json.dumps(fc))
        zput(z, "model.weights.h5", k3_weights(m))
    good = open(os.path.join(OUT, "dense.keras"), "rb").read()
    open(os.path.join(OUT, "bad_truncated.keras"), "wb").write(good[:len(good) * 2 // 3])
    h5 = open(os.path.join(OUT, "legacy_k21.h5"), "rb").read()
    open(os.path.join(OUT, "bad_truncated.h5"), "wb").write(h5[:len(h5) // 2])
    cor = bytearray(h5)
    for i in range(96, 800):  # the superblock survives, the object headers behind it do not
        cor[i] ^= 0x5A
    open(os.path.join(OUT, "bad_corrupt.h5"), "wb").write(bytes(cor))
    # a zip whose weights member is not HDF5
    with zipfile.ZipFile(os.path.join(OUT, "bad_weights_not_h5.keras"), "w") as z:
        zput(z, "metadata.json", json.dumps({"keras_version": "3.3.3"}))
        zput(z, "config.json", json.dumps(k3_config(m)))
        zput(z, "model.weights.h5", b"\x89HDF\r\n\x1a\n" + bytes(200))
    # a Dense kernel of the wrong shape
    m["layers"][0]["weights"][0] = np.zeros((5, 3))
    with zipfile.ZipFile(os.path.join(OUT, "bad_weight_shape.keras"), "w") as z:
        zput(z, "metadata.json", json.dumps({"keras_version": "3.3.3"}))
        zput(z, "config.json", json.dumps(cfg if False else k3_config(m)))
        zput(z, "model.weights.h5", k3_weights(m))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    keras3_cases()
    legacy_cases()
    bad_cases()
    print("wrote", len(os.listdir(OUT)), "files to", OUT)
