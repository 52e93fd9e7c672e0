#!/usr/bin/env bash
# What makes PALBERT's halting head decide per row on the pretrained all-MiniLM-L6-v2: one change at a
# time from the library's defaults (pooling, λ_p, β, KL direction, the λ-head's input, learning rate and
# architecture, shared or per-layer classifiers), each fine-tuned on 4,000 SST-2 rows and measured on
# the dev set. Results: bench/results/palbert-ablation.md (the README table) and .json.
# About 20 minutes on 2 CPU cores (training dominates; nothing is timed).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/PalbertAblation -- --rows "${ROWS:-4000}" --seed "${SEED:-42}" --out bench/results --configs "${CONFIGS:-\
defaults: \
cls:pooling=cls \
prior0.1:prior=0.1 \
prior0.3:prior=0.3 \
beta0:beta=0 \
beta0.1:beta=0.1 \
kl-halting:kl=halting \
halting-lr1e-3:halting-lr=1e-3 \
linear:halting=linear \
difference:halting=difference \
per-layer:heads=per-layer \
confidence:confidence=true}" "$@"
