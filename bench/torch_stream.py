"""PyTorch side of the streaming latency bench (bench/bench_stream.c): the
per-step call a PyTorch user makes — nn.LSTMCell / nn.GRUCell (and the head)
under no_grad, one thread — p50 / p99 microseconds per step for 1 and 64 rows.
    /usr/bin/python3 bench/torch_stream.py [steps]"""
import sys
import time

import torch
import torch.nn as nn

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
torch.set_num_threads(1)
torch.manual_seed(0)


def timed(name, rows, n, step):
    ts = []
    for k in range(50 + n):
        t0 = time.perf_counter()
        step(k)
        dt = time.perf_counter() - t0
        if k >= 50:
            ts.append(dt * 1e6)
    ts.sort()
    print("%s %d %.2f %.2f" % (name, rows, ts[len(ts) // 2], ts[int(len(ts) * 0.99)]))


with torch.no_grad():
    for rows in (1, 64):
        n = steps if rows == 1 else steps // 4
        x = torch.rand(rows, 14)
        cell, head = nn.LSTMCell(14, 32), nn.Linear(32, 1)
        st = [torch.zeros(rows, 32), torch.zeros(rows, 32)]

        def lstm_step(k):
            st[0], st[1] = cell(x, (st[0], st[1]))
            head(st[0])
        timed("lstm32", rows, n, lstm_step)
        g1, g2, gh = nn.GRUCell(14, 32), nn.GRUCell(32, 32), nn.Linear(32, 1)
        hs = [torch.zeros(rows, 32), torch.zeros(rows, 32)]

        def gru_step(k):
            hs[0] = g1(x, hs[0])
            hs[1] = g2(hs[0], hs[1])
            gh(hs[1])
        timed("gru32x2", rows, n, gru_step)
        emb, cf, cb = nn.Embedding(20000, 256), nn.LSTMCell(256, 32), nn.LSTMCell(256, 32)
        sf = [torch.zeros(rows, 32), torch.zeros(rows, 32)]
        sb = [torch.zeros(rows, 32), torch.zeros(rows, 32)]
        ids = torch.randint(1, 20000, (rows,))

        def bi_step(k):
            e = emb(ids)
            sf[0], sf[1] = cf(e, (sf[0], sf[1]))
            sb[0], sb[1] = cb(e, (sb[0], sb[1]))
        timed("bilstm32", rows, n, bi_step)
