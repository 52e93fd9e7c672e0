#!/usr/bin/env bash
# Layer-attention off-ramps whose pools can move (issue 14): the CoNLL-2003 labellers of bench/conll-heads.sh with
# layer and difference attention, their pools trained at a learning rate of their own (POOL_LR, default 1e-2, 100x
# the backbone's), against NER alone. Results: bench/results/layer-attention-pools.{md,json}, with what each last
# pool learnt. Models are kept in bench/out/word-pooling/ beside that bench's NER-alone model (same settings), so a
# run after bench/word-pooling.sh trains two models. About 20 minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/ConllHeads -- --train-sentences "${TRAIN_SENTENCES:-14041}" --epochs "${EPOCHS:-1}" --seed "${SEED:-42}" \
  --variants ner,layer-attention-fast,difference-attention-fast --pool-learning-rate "${POOL_LR:-1e-2}" --models bench/out/word-pooling \
  --report layer-attention-pools --criteria "full,layer:1,layer:2,tokee:0.3:3,tokee:0.3:1" --command "bash bench/layer-attention-pools.sh" --out bench/results "$@"
