"""PyTorch side of `make bench`: the same cases and training step as
bench/bench_models.c (forward, loss, backward, RMSprop; inference = forward
under no_grad), on random data of the same shapes, at a given thread count.
Run with Debian's python3-torch: /usr/bin/python3 bench/torch_bench.py THREADS STEPS"""
import sys
import time

import torch
import torch.nn as nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
only = sys.argv[3] if len(sys.argv) > 3 else None
torch.set_num_threads(threads)
torch.manual_seed(0)


class Rec(nn.Module):
    def __init__(self, kind, nin, h, layers=1, bidir=False, emb=None):
        super().__init__()
        self.emb = nn.Embedding(emb, nin) if emb else None
        self.rnn = getattr(nn, kind)(nin, h, num_layers=layers, batch_first=True, bidirectional=bidir)
        self.out = nn.Linear(h * (2 if bidir else 1), 1)

    def forward(self, x):
        if self.emb is not None:
            x = self.emb(x)
        y, _ = self.rnn(x)
        return self.out(y[:, -1, :])


class RecDrop(Rec):
    """LSTM(32) with Keras-style recurrent dropout: PyTorch's fused LSTM has no
    recurrent dropout, so this is the LSTMCell loop a PyTorch user writes."""

    def __init__(self, nin, h, p):
        nn.Module.__init__(self)
        self.cell = nn.LSTMCell(nin, h)
        self.out = nn.Linear(h, 1)
        self.h, self.p = h, p

    def forward(self, x):
        B = x.shape[0]
        h = x.new_zeros(B, self.h)
        c = x.new_zeros(B, self.h)
        m = (torch.rand(B, self.h) >= self.p).float() / (1 - self.p) if self.training else None
        for t in range(x.shape[1]):
            h, c = self.cell(x[:, t], (h * m if m is not None else h, c))
        return self.out(h)


NAMES = ["jena lstm16", "jena lstm32", "jena lstm32 rdrop0.25", "jena gru32x2", "jena bilstm16", "imdb emb256 bilstm32"]


def bench(name, model, x, y, loss_fn, n):
    # `only`: a case's exact name, else a part of names (as bench_models)
    if only and (only != name if only in NAMES else only not in name):
        return
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    for _ in range(2):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    tr, ctr = n * x.shape[0] / (time.perf_counter() - t), n * x.shape[0] / (time.process_time() - c)
    model.eval()
    with torch.no_grad():
        t, c = time.perf_counter(), time.process_time()
        for _ in range(n):
            model(x)
        inf, cinf = n * x.shape[0] / (time.perf_counter() - t), n * x.shape[0] / (time.process_time() - c)
    print(f"{name:28s} train {tr:10.0f} samples/s   infer {inf:10.0f} samples/s   per cpu-s train {ctr:.0f} infer {cinf:.0f}",
          flush=True)


B, T, F = 256, 120, 14
x = torch.randn(B, T, F)
y = torch.randn(B, 1)
bench("jena lstm16", Rec("LSTM", F, 16), x, y, nn.L1Loss(), steps)
bench("jena lstm32", Rec("LSTM", F, 32), x, y, nn.L1Loss(), steps)
bench("jena lstm32 rdrop0.25", RecDrop(F, 32, 0.25), x, y, nn.L1Loss(), steps)
bench("jena gru32x2", Rec("GRU", F, 32, layers=2), x, y, nn.L1Loss(), steps)
bench("jena bilstm16", Rec("LSTM", F, 16, bidir=True), x, y, nn.L1Loss(), steps)
xi = torch.randint(0, 20000, (32, 600))
yi = torch.randint(0, 2, (32, 1)).float()
bench("imdb emb256 bilstm32", Rec("LSTM", 256, 32, bidir=True, emb=20000), xi, yi, nn.BCEWithLogitsLoss(), max(2, steps // 4))
