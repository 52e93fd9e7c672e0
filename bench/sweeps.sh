#!/usr/bin/env bash
# Threshold sweeps on SST-2 (PALBERT, PonderNet, PABEE models) and CoNLL-2003 (the token-exit labeller),
# all fine-tuned from the pretrained all-MiniLM-L6-v2; the fastest setting within a metric drop is chosen
# on validation data and reported on data the choice never saw.
# Results: bench/results/sweeps.md (the README's tables), sweeps.json, bench/results/sweeps/ (PNG, CSV).
# Needs ../shared beside the repository and bench/out/conll-ner.zip from bench/conll-ner.sh (unless
# --methods leaves CoNLL out; options: bench/Sweeps/Program.cs). About 10 minutes on 2 CPU cores (the
# SST-2 models are trained once and kept in bench/out/). Run it on an otherwise idle machine: rows/s are measured.
set -euo pipefail
cd "$(dirname "$0")/.."
# TRAIN_ROWS, EPOCHS and SEED override the program's defaults (8000, 1, 42), as --train-rows, --epochs, --seed do.
defaults=()
if [ -n "${TRAIN_ROWS:-}" ]; then defaults+=(--train-rows "$TRAIN_ROWS"); fi
if [ -n "${EPOCHS:-}" ]; then defaults+=(--epochs "$EPOCHS"); fi
if [ -n "${SEED:-}" ]; then defaults+=(--seed "$SEED"); fi
dotnet run -c Release --project bench/Sweeps -- "${defaults[@]}" "$@"
