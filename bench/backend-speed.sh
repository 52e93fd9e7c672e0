#!/usr/bin/env bash
# Issue 13's anchor: ONNX Runtime running the fine-tuned all-MiniLM-L6-v2 PALBERT classifier at full depth
# (its own ONNX export, model.onnx) against this project's scorers on the TorchSharp and ONNX Runtime
# backends, full depth and with early exit, on the 872 SST-2 dev sentences: batches of 32 sorted and in
# input order, and one row at a time. Results: bench/results/backend-speed.md.
# With --ner: the same for token-level exit, the CoNLL-2003 labeller of bench/conll-ner.sh on the 3,250 dev
# sentences (SENTEE, TOKEE, fixed layers; the ratio of wall-clock to token-layer speed-up). Results:
# bench/results/ner-backend-speed.md.
# Needs ../shared beside the repository. The models are bench/out/sst2-palbert.zip and bench/out/conll-ner.zip;
# when one is missing it is trained first (bench/sweeps.sh --train-only true --methods PALBERT: about 3
# minutes; bench/conll-ner.sh --train-only true: about 8 minutes). --model FILE scores another model as it
# is (bench/sst2-full.sh); --criteria a,b,c chooses the early-exit settings; --out DIR the results' folder.
# --compare-spinning adds the ONNX Runtime backend with other thread settings; --profile-onnx times each of
# its graphs against model.onnx instead (onnx-profile.md).
# The timing itself takes about 6 minutes on 2 CPU cores (--ner with PASSES=5: about 15); run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " == *" --model "* ]]; then
  : # a model of the caller's (bench/sst2-full.sh): nothing to train here
elif [[ " $* " == *" --ner "* ]]; then
  if [ ! -f bench/out/conll-ner.zip ]; then
    bash bench/conll-ner.sh --train-only true
  fi
elif [ ! -f bench/out/sst2-palbert.zip ]; then
  bash bench/sweeps.sh --train-only true --methods PALBERT
fi
dotnet run -c Release --project bench/BackendSpeed -- --passes "${PASSES:-3}" "$@"
