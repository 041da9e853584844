#!/bin/sh
# make bench: seqnn and PyTorch side by side on the seed's shapes, same thread
# count, same run; prints a markdown table with the ratio seqnn / PyTorch.
#   bench/run.sh [threads] [steps]
set -e
T=${1:-2}
S=${2:-20}
# Both sides use the same OpenMP wait policy (libgomp for both); passive unless
# the caller sets one: spinning threads collapse throughput on a shared machine.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
cd "$(dirname "$0")/.."
echo "# seqnn vs PyTorch, $T thread(s), $S steps per case; $(date -u +%Y-%m-%dT%H:%MZ) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# command: bench/run.sh $T $S (OMP_WAIT_POLICY=$OMP_WAIT_POLICY, load average: $(cut -d' ' -f1-3 /proc/loadavg))"
build/bench_models "$T" "$S" > build/bench_seqnn.txt
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    /usr/bin/python3 bench/torch_bench.py "$T" "$S" > build/bench_torch.txt
else
    echo "# PyTorch not installed (apt-get install python3-torch): seqnn figures only"
    : > build/bench_torch.txt
fi
echo
echo "| case | seqnn train/s | PyTorch train/s | ratio | seqnn infer/s | PyTorch infer/s | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
awk -F'  +' 'NR==FNR { split($0, a, /train +| samples\/s +infer +| samples\/s/); name=$1; sub(/ +$/, "", name);
                       tt[name]=a[2]+0; ti[name]=a[3]+0; next }
             { split($0, a, /train +| samples\/s +infer +| samples\/s/); name=$1; sub(/ +$/, "", name);
               st=a[2]+0; si=a[3]+0;
               if (name in tt) printf "| %s | %.0f | %.0f | %.1fx | %.0f | %.0f | %.1fx |\n", name, st, tt[name], st/tt[name], si, ti[name], si/ti[name];
               else printf "| %s | %.0f | - | - | %.0f | - | - |\n", name, st, si }' build/bench_torch.txt build/bench_seqnn.txt
