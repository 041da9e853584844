#!/bin/sh
# The runs behind docs/forecasting.md's results: on the bundled Jena data,
# every baseline and model at horizons 24, 48, 96 h (--steps all), under both
# split conventions; learned models for seeds 1..3 (10 epochs, early stopping
# after 3 epochs without a better validation loss), the deterministic
# baselines once. One process at a time, one thread, niced (the machine is
# shared). Each run's log and results.csv land in OUT/<horizon>_<split>_<what>/.
# Then the seed's own table (forecast --all, the default protocol) for the
# "unchanged" column. Usage: scripts/forecast_results.sh SEQNN_BINARY OUT_DIR
set -u
BIN=$1; O=$2
mkdir -p "$O"
BASE="naive,seasonal_naive,mean,drift,ets"
LEARNED="linear,dlinear,dense,conv1d,simple_rnn,lstm,lstm_dropout,gru_stacked,bilstm"
run() { # dir, args...
    d=$1; shift
    mkdir -p "$O/$d"
    start=$(date +%s)
    nice -n 10 "$BIN" --threads 1 forecast "$@" --out "$O/$d" --quiet --no-plots > "$O/$d/log.txt" 2>&1
    echo "rc=$? wall=$(( $(date +%s) - start ))s $*" > "$O/$d/cmd.txt"
}
for H in 24 48 96; do
    for S in seed context; do
        ctx=""; [ "$S" = context ] && ctx="--split-context"
        run "${H}_${S}_base" --all --models "$BASE" --target-scale standard --steps all --horizon ${H}h $ctx
        for seed in 1 2 3; do
            run "${H}_${S}_learned_s${seed}" --all --models "$LEARNED" --target-scale standard --steps all \
                --horizon ${H}h $ctx --epochs 10 --patience 3 --seed $seed
        done
    done
done
run seed_table --all
