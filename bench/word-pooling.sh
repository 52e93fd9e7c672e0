#!/usr/bin/env bash
# Word pooling (issue 14, idea 3) on CoNLL-2003, fine-tuned from the pretrained all-MiniLM-L6-v2: NER alone against
# the same labeller with layers K..6 on words (each word's pieces averaged into one position before layer K), for
# K in WORDS (default 1, 3, 5). Entity F1 on dev and test, and the time to label the dev sentences, median of
# TIME_PASSES passes with the models in turn. Results: bench/results/word-pooling.{md,json}. Models are kept in
# bench/out/word-pooling/ (a second run only scores and times). About 80 minutes on 2 CPU cores (four trainings on
# all 14,041 training sentences); keep the machine otherwise idle while it times (the last ten minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
variants="ner"
for k in ${WORDS:-1 3 5}; do variants="$variants,words-$k"; done
dotnet run -c Release --project bench/ConllHeads -- --train-sentences "${TRAIN_SENTENCES:-14041}" --epochs "${EPOCHS:-1}" --seed "${SEED:-42}" \
  --variants "$variants" --models bench/out/word-pooling --report word-pooling --criteria "full,layer:3,tokee:0.3:3" \
  --time-passes "${TIME_PASSES:-5}" --command "bash bench/word-pooling.sh" --out bench/results "$@"
