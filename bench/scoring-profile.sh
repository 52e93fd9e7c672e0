#!/usr/bin/env bash
# Where full-depth scoring time goes in the TorchSharp encoder: all-MiniLM-L6-v2 on the 872 SST-2 dev
# sentences, sorted batches of 32, batches in input order, one row at a time, each step timed, no_grad
# against inference_mode, then one layer op by op and the exit heads after it (issue 13). Results:
# bench/results/scoring-profile.md, or --out DIR for another machine's. Needs ../shared beside the
# repository. About 4 minutes on 2 CPU cores; run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/ScoringProfile -- --passes "${PASSES:-3}" "$@"
