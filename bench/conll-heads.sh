#!/usr/bin/env bash
# Token heads beyond the paper's (issue 14) on CoNLL-2003, fine-tuned from the pretrained all-MiniLM-L6-v2
# with the same settings and seed: NER alone; with part of speech after layer 1 and chunks after layer 2
# (weights 1, and x0.1); and off-ramps reading a learned attention over the layers so far (states, or
# what each layer added). Results: bench/results/conll-heads.md (the README tables) and .json, rewritten
# after each model. Needs ../shared beside the repository. About 90 minutes on 2 CPU cores (five
# trainings of 17-25 minutes, then scoring each on dev and test); a second run reuses the models kept in
# bench/out/conll-heads-*.zip and only scores. VARIANTS picks some (ner,tasks,layer-attention,
# difference-attention,tasks-light); TASKS="PartOfSpeech:1:1,Chunk:2:1" (column:layer:weight) changes the
# tasks after deleting those models.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/ConllHeads -- --train-sentences "${TRAIN_SENTENCES:-14041}" --epochs "${EPOCHS:-1}" --seed "${SEED:-42}" \
  --tasks "${TASKS:-PartOfSpeech:1:1,Chunk:2:1}" --variants "${VARIANTS:-ner,tasks,layer-attention,difference-attention,tasks-light}" --out bench/results "$@"
