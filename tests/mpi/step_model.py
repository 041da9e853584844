#!/usr/bin/env python3
"""The step-time model of docs/distributed.md ("A model of a step on K
machines"): per seed model, the time of one training step on N machines
(one rank each, K chunks) from measured numbers, and the rows per chunk
below which communication is no longer hidden. Not a test; no seqnn
needed. Inputs below are the measurements the document reports:
samples/s of `build/bench_dist` at 1 x 1 (chunked), bytes per step, the
vader all-reduce bus bandwidth of `mpirun -np 2 build-mpi/bench_dist
allreduce`. Usage: python3 tests/mpi/step_model.py [N]"""
import math
import sys

# name, batch B, trainable P, bytes per step, 1x1 chunked samples/s, buckets
CASES = [
    ("dense", 256, 26913, 215444, 190184, 2),
    ("conv1d", 256, 3873, 31032, 45402, 4),
    ("simple_rnn", 256, 513, 4140, 65963, 2),
    ("lstm", 256, 2001, 16048, 36222, 2),
    ("lstm_dropout", 256, 6049, 48448, 12928, 2),
    ("gru_stacked", 256, 10977, 87892, 5883, 3),
    ("bilstm", 256, 4001, 32056, 15746, 2),
    ("bigram", 32, 320033, 2561548, 4262, 2),
    ("embedding_bilstm", 32, 5194049, 41572716, 114, 3),
]
# measured loopback (shared memory) all-reduce bus bandwidth, GB/s, by size
LOOPBACK = [(1024, 1.149), (4096, 0.757), (16384, 2.084), (65536, 3.691), (262144, 4.455),
            (1048576, 5.520), (4194304, 4.943), (16777216, 1.053), (67108864, 0.380)]
K = 8            # chunks per batch
BACKWARD = 2 / 3  # assumed share of backward in a chunk's compute (not measured)


def loopback_bw(m):
    for size, bw in LOOPBACK:
        if m <= size * 1.5:
            return bw
    return LOOPBACK[-1][1]


def comm_time(m, n, beta, alpha, buckets):
    """Ring all-reduce of m bytes over n ranks, plus the latency of the
    step's collectives (a max and a sum per bucket, an agreement, a
    gather), each 2 log2(n) messages."""
    return 2 * (n - 1) / n * m / (beta * 1e9) + (2 * buckets + 2) * 2 * math.log2(n) * alpha


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    nets = [("loopback", None, 1e-6), ("10 GbE (assumed)", 1.1, 30e-6)]
    print("| model | 1 x 1 ms/step | " + " | ".join(
        f"N = {n}, {name}: t_comm / w / T_step ms, speed-up" for name, _, _ in nets) +
        " | " + " | ".join(f"b* {name}" for name, _, _ in nets) + " |")
    for name, b, _, m, rate, buckets in CASES:
        t_row = 1 / rate
        w = BACKWARD * t_row * b / K          # backward of the rank's last chunk
        t_c = t_row * b / n
        cells, bstar = [], []
        for _, beta, alpha in nets:
            t = comm_time(m, n, beta or loopback_bw(m), alpha, buckets)
            step = t_c + max(0.0, t - w)
            cells.append(f"{t * 1e3:.2f} / {w * 1e3:.2f} / {step * 1e3:.2f}, {b * t_row / step:.1f}x")
            bstar.append(str(math.ceil(t / (BACKWARD * t_row))))
        print(f"| {name} | {b * t_row * 1e3:.1f} | " + " | ".join(cells) + " | " + " | ".join(bstar) + " |")


if __name__ == "__main__":
    main()
