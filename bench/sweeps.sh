#!/usr/bin/env bash
# Threshold sweeps on SST-2 (PALBERT, PonderNet, PABEE models) and CoNLL-2003 (the token-exit labeller),
# all fine-tuned from the pretrained all-MiniLM-L6-v2; the fastest setting within a metric drop is chosen
# on validation data and reported on data the choice never saw.
# Results: bench/results/sweeps.md (the README's tables), sweeps.json, bench/results/sweeps/ (PNG, CSV).
# Needs ../shared beside the repository and bench/out/conll-ner.zip from bench/conll-ner.sh. About 10
# minutes on 2 CPU cores (the SST-2 models are trained once and kept in bench/out/). Run it on an
# otherwise idle machine: rows/s are measured.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/Sweeps -- --train-rows "${TRAIN_ROWS:-8000}" --epochs "${EPOCHS:-1}" --seed "${SEED:-42}" --out bench/results "$@"
