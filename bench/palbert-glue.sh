#!/usr/bin/env bash
# PALBERT and its baselines (PonderNet, PABEE, DeeBERT, plain full-depth fine-tuning) fine-tuned from the
# pretrained all-MiniLM-L6-v2 on GLUE SST-2, MRPC, RTE, CoLA and STS-B (dev-set evaluation), two seeds on
# the small tasks. Training sets are sub-sampled (bench/PalbertGlue/Program.cs says how much) so the run
# takes about 90 minutes on 2 CPU cores. Results: bench/results/palbert-glue.md (the README tables) and
# bench/results/palbert-glue.json. Run it on an otherwise idle machine, since rows/s are measured.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/PalbertGlue -- --tasks "${TASKS:-sst2,mrpc,rte,cola,stsb}" --seeds "${SEEDS:-2}" --seed "${SEED:-42}" --out bench/results "$@"
