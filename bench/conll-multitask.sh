#!/usr/bin/env bash
# Hierarchical multi-task token heads (issue 14) on CoNLL-2003, fine-tuned from the pretrained
# all-MiniLM-L6-v2: NER alone against NER with part of speech after layer 1 and chunks after layer 2.
# Results: bench/results/conll-multitask.md (the README tables) and bench/results/conll-multitask.json.
# Needs ../shared beside the repository. About 25 minutes on 2 CPU cores (two trainings of about 8
# minutes, then scoring both models on dev and test under six criteria); a second run reuses the models
# kept in bench/out/conll-multitask-*.zip and only scores. Override the tasks with
# TASKS="PartOfSpeech:1:1,Chunk:2:1" (column:layer:weight) after deleting those models.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/ConllMultitask -- --train-sentences "${TRAIN_SENTENCES:-14041}" --epochs "${EPOCHS:-1}" --seed "${SEED:-42}" \
  --tasks "${TASKS:-PartOfSpeech:1:1,Chunk:2:1}" --out bench/results "$@"
