#!/usr/bin/env bash
# Token-level early exit (SENTEE, TOKEE with halt-and-copy) on CoNLL-2003, fine-tuned from the pretrained
# all-MiniLM-L6-v2. Results: bench/results/conll-ner.md (the README table) and bench/results/conll-ner.json.
# Needs ../shared beside the repository. About 20 minutes on 2 CPU cores: 7 training, the rest measuring
# (a second run reuses the model kept in bench/out/ and only measures). Run it on an otherwise idle
# machine, since sentences/s are measured.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/ConllNer -- --train-sentences "${TRAIN_SENTENCES:-14041}" --epochs "${EPOCHS:-1}" --seed "${SEED:-42}" --out bench/results "$@"
