#!/usr/bin/env bash
# Does the referenced Microsoft.ML.Tokenizers reproduce ALBERT's golden token ids? (Why
# src/EarlyExit.Core/Tokenization/SentencePieceUnigram.cs exists.) Seconds; prints its findings.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/TokenizersCheck -- "${1:-../shared/models/albert-base-v2}"
