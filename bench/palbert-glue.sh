#!/usr/bin/env bash
# PALBERT and its baselines trained from scratch on GLUE SST-2, MRPC, RTE and CoLA (dev-set evaluation).
# Results: bench/results/palbert-glue.md (the README table) and bench/results/palbert-glue.json.
# Needs ../shared beside the repository (data, and the albert-base-v2 tokenizer as the hub mirror).
# About an hour on 2 CPU cores; run it on an otherwise idle machine, since rows/s are measured.
set -euo pipefail
cd "$(dirname "$0")/.."
export EARLYEXIT_ASSETS="${EARLYEXIT_ASSETS:-$(cd .. && pwd)/shared}" EARLYEXIT_OFFLINE="${EARLYEXIT_OFFLINE:-1}"
dotnet run -c Release --project bench/PalbertGlue -- --tasks "${TASKS:-sst2,mrpc,rte,cola}" --train-rows "${TRAIN_ROWS:-20000}" \
  --epochs "${EPOCHS:-3}" --seed "${SEED:-42}" --out bench/results "$@"
