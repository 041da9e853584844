#!/bin/sh
# make bench: seqnn, PyTorch and oneDNN's RNN primitives side by side on the
# seed's shapes, at each thread count, REPEAT times, in one table.
#   bench/run.sh "THREADS..." [STEPS] [REPEAT]      (make bench BENCH_THREADS="1 2")
#
# Per case the three run back to back at the same thread count, so each
# ratio is of figures measured seconds apart; the table gives the median of
# the repeats and, for the ratios, their spread (min-max over repeats), also
# per CPU-second of the process (less sensitive to a shared machine).
#   seqnn:   build/bench_models   (forward, loss, backward, RMSprop; infer = forward)
#   PyTorch: bench/torch_bench.py (the same steps; Debian's python3-torch)
#   oneDNN:  build/dnnl_rnn_bench (../shared/peers: forward_training + backward
#            of the RNN primitive alone, no embedding, head or optimizer step;
#            infer = forward_inference; built by make when libdnnl is installed)
# GFLOP/s counts the matrix products only (docs/performance.md, "FLOP count"):
# training = 3 x forward, forward per sample = sum over recurrent layers and
# directions of 2 T G H (C + H), plus 2 x inputs for the Dense(1) head.
# % of peak divides by THREADS x the 1-thread FMA peak of the active vector
# path (build/fma_peak).
set -e
TL=${1:-"1 2"}
S=${2:-20}
R=${3:-3}
# Both sides use the same OpenMP wait policy (libgomp for all three); passive
# unless the caller sets one: spinning threads collapse throughput on a shared machine.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
cd "$(dirname "$0")/.."
raw=build/bench_raw.txt
: > "$raw"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
path=$(build/seqnn version --verbose 2>/dev/null | sed -n 's/^vector path: *//p')
kern=$(build/seqnn version --verbose 2>/dev/null | sed -n 's/^blas kernel: *//p')
torch=0
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then torch=1; fi
dnnl=0
[ -x build/dnnl_rnn_bench ] && dnnl=1
peak1=$(build/fma_peak 1 | awk '{ print $3 }')
echo "# seqnn vs PyTorch vs oneDNN; $(date -u +%Y-%m-%dT%H:%MZ) on $cpu ($(nproc) CPUs)"
echo "# seqnn: vector path $path, OpenBLAS kernel $kern, OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
echo "# fp32 peak of the path (build/fma_peak, 1 thread): $peak1 GFLOP/s"
echo "# command: bench/run.sh \"$TL\" $S $R; steps per case $S (IMDB $((S / 4 > 2 ? S / 4 : 2))); oneDNN 10 timed iterations"
[ $torch = 1 ] || echo "# PyTorch not installed (apt-get install python3-torch): its columns are empty"
[ $dnnl = 1 ] || echo "# oneDNN not installed (apt-get install libdnnl-dev): its columns are empty"
# oneDNN peer case numbers for our cases (none for recurrent dropout)
dnnl_case() {
    case "$1" in
    "jena lstm16") echo 1 ;; "jena lstm32") echo 2 ;; "jena gru32x2") echo 3 ;;
    "jena bilstm16") echo 4 ;; "imdb emb256 bilstm32") echo 5 ;; *) echo 0 ;;
    esac
}
for t in $TL; do echo "peak $t 0 $(build/fma_peak "$t" | awk '{ print $3 }')" >> "$raw"; done
# Repeats outside, then threads, then cases; per case the three run back to
# back, so a ratio compares figures taken seconds apart.
for r in $(seq "$R"); do
    for t in $TL; do
        echo "load $t $r $(cut -d' ' -f1 /proc/loadavg)" >> "$raw"
        for c in "jena lstm16" "jena lstm32" "jena lstm32 rdrop0.25" "jena gru32x2" "jena bilstm16" "imdb emb256 bilstm32"; do
            build/bench_models "$t" "$S" "$c" | sed "s/^/seqnn $t $r /" >> "$raw"
            [ $torch = 0 ] || /usr/bin/python3 bench/torch_bench.py "$t" "$S" "$c" | sed "s/^/torch $t $r /" >> "$raw"
            n=$(dnnl_case "$c")
            [ $dnnl = 0 ] || [ "$n" = 0 ] ||
                OMP_NUM_THREADS=$t build/dnnl_rnn_bench "$t" 10 2 "$n" | grep -v '^#' | sed "s/^/dnnl $t $r /" >> "$raw"
        done
    done
done
for t in $TL; do echo "load $t end $(cut -d' ' -f1 /proc/loadavg)" >> "$raw"; done
awk -v peak1="$peak1" -v R="$R" '
function med(s,   a, n, i, j, x) {
    n = split(s, a, " "); if (n == 0) return ""
    for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function mn(s,   a, n, i, m) { n = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0; return m }
function mx(s,   a, n, i, m) { n = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 > m) m = a[i] + 0; return m }
function ratio(s) { return s == "" ? "-" : sprintf("%.2fx (%.2f-%.2f)", med(s), mn(s), mx(s)) }
function num(s) { return s == "" ? "-" : sprintf("%.0f", med(s)) }
BEGIN {
    # oneDNN case names -> ours
    dn["lstm16 B256 T120"] = "jena lstm16"; dn["lstm32 B256 T120"] = "jena lstm32"
    dn["lbrgru32x2 B256 T120"] = "jena gru32x2"; dn["bilstm16 B256 T120"] = "jena bilstm16"
    dn["emb-bilstm32 B32 T600 C256"] = "imdb emb256 bilstm32"
    # forward FLOPs per sample (matrix products): 2 T G H (C + H) per layer and direction + 2 x head inputs
    fw["jena lstm16"] = 2 * 120 * 64 * 30 + 2 * 16
    fw["jena lstm32"] = 2 * 120 * 128 * 46 + 2 * 32
    fw["jena lstm32 rdrop0.25"] = fw["jena lstm32"]
    fw["jena gru32x2"] = 2 * 120 * 96 * 46 + 2 * 120 * 96 * 64 + 2 * 32
    fw["jena bilstm16"] = 2 * (2 * 120 * 64 * 30) + 2 * 32
    fw["imdb emb256 bilstm32"] = 2 * (2 * 600 * 128 * 288) + 2 * 64
}
$1 == "peak" { pk[$2] = $4; next }
$1 == "load" { ld[$2] = ld[$2] (ld[$2] == "" ? "" : ", ") $4; next }
$1 == "seqnn" || $1 == "torch" {
    name = ""; for (i = 4; $i != "train"; i++) name = name (name == "" ? "" : " ") $i
    tr = $(i + 1); inf = $(i + 4)
    key = name SUBSEP $2
    if (!(key in seen)) { seen[key] = 1; order[++no] = key }
    v[$1, "tr", key, $3] = tr; v[$1, "in", key, $3] = inf
    if ($(i + 6) == "per") v[$1, "ctr", key, $3] = $(i + 9)
    next
}
$1 == "dnnl" {
    name = ""; for (i = 4; i <= NF - 7; i++) name = name (name == "" ? "" : " ") $i
    if (!(name in dn)) next
    key = dn[name] SUBSEP $2
    v["dnnl", "tr", key, $3] = $(NF - 4); v["dnnl", "in", key, $3] = $(NF - 1); next
}
END {
    print ""
    print "| case | threads | seqnn train/s | PyTorch train/s | seqnn / PyTorch | same, per CPU-second | oneDNN train/s | seqnn infer/s | oneDNN infer/s | seqnn / oneDNN infer | PyTorch infer/s | seqnn train GFLOP/s | % of peak |"
    print "|---|---:|---:|---:|---|---|---:|---:|---:|---|---:|---:|---:|"
    for (k = 1; k <= no; k++) {
        key = order[k]; split(key, kk, SUBSEP); t = kk[2]
        st = tt = dt = si = di = ti = rt = ri = rc = ""
        for (r = 1; r <= R; r++) {
            a = v["seqnn", "tr", key, r]; b = v["torch", "tr", key, r]; c = v["dnnl", "tr", key, r]
            d = v["seqnn", "in", key, r]; e = v["dnnl", "in", key, r]; f = v["torch", "in", key, r]
            if (a != "") st = st " " a; if (b != "") tt = tt " " b; if (c != "") dt = dt " " c
            if (d != "") si = si " " d; if (e != "") di = di " " e; if (f != "") ti = ti " " f
            if (a != "" && b + 0 > 0) rt = rt " " a / b
            if (d != "" && e + 0 > 0) ri = ri " " d / e
            a2 = v["seqnn", "ctr", key, r]; b2 = v["torch", "ctr", key, r]
            if (a2 != "" && b2 + 0 > 0) rc = rc " " a2 / b2
        }
        g = (kk[1] in fw) ? med(st) * 3 * fw[kk[1]] * 1e-9 : 0
        printf "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %.0f %% |\n", kk[1], t, num(st), num(tt), ratio(rt),
               ratio(rc), num(dt), num(si), num(di), ratio(ri), num(ti), g, 100 * g / (t * peak1)
    }
    print ""
    for (t in ld) printf "load average (1 min) before each repeat and after, %d thread(s): %s; FMA peak measured at %d thread(s): %s GFLOP/s\n", t, ld[t], t, pk[t]
    print "ratios: median over the repeats (min-max); per CPU-second: samples per second of the process CPU time (seqnn and PyTorch)"
}' "$raw"
