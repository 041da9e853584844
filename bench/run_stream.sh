#!/bin/sh
# make bench (second table): streaming latency, seqnn's sn_stream_step beside
# PyTorch's per-step cell call, one thread, p50 / p99 microseconds per step.
#   bench/run_stream.sh [steps]
set -e
S=${1:-2000}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
cd "$(dirname "$0")/.."
echo
echo "# streaming latency, 1 thread, $S steps (1 row) / $((S / 4)) steps (64 rows); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
build/bench_stream "$S" > build/bench_stream_seqnn.txt
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    /usr/bin/python3 bench/torch_stream.py "$S" > build/bench_stream_torch.txt
else
    echo "# PyTorch not installed: seqnn figures only"
    : > build/bench_stream_torch.txt
fi
echo
echo "| case | rows | seqnn p50 µs | seqnn p99 µs | PyTorch p50 µs | PyTorch p99 µs |"
echo "|---|---:|---:|---:|---:|---:|"
awk 'NR==FNR { t50[$1" "$2]=$3; t99[$1" "$2]=$4; next }
     { k=$1" "$2; if (k in t50) printf "| %s | %s | %.1f | %.1f | %.1f | %.1f |\n", $1, $2, $3, $4, t50[k], t99[k];
       else printf "| %s | %s | %.1f | %.1f | - | - |\n", $1, $2, $3, $4 }' build/bench_stream_torch.txt build/bench_stream_seqnn.txt
