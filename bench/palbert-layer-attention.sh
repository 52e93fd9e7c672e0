#!/usr/bin/env bash
# Issue 14, idea 2 for PALBERT: the λ-head reading a learned attention over the pooled states of layers
# 1..i (HaltingVariant.LayerAttention) against the default Concat head and the Difference head, each
# fine-tuned from the pretrained all-MiniLM-L6-v2 on the same 4,000 SST-2 rows and measured on the dev
# set by the ablation's program (bench/PalbertAblation: accuracy per layer, λ per layer, Q-exit and the
# other criteria on one record). Results: bench/results/palbert-layer-attention/palbert-ablation.{md,json}.
# About 6 minutes on 2 CPU cores (nothing is timed).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/PalbertAblation -- --rows "${ROWS:-4000}" --seed "${SEED:-42}" --out bench/results/palbert-layer-attention \
  --command "bash bench/palbert-layer-attention.sh" \
  --configs "defaults: difference:halting=difference layer-attention:halting=layer-attention" "$@"
