#!/usr/bin/env bash
# The consumer test: installs the product the way users will, outside the repository.
#   1. dotnet pack EarlyExit.Core, EarlyExit.MLNet and the earlyexit tool into a local folder feed, at a
#      version no earlier run used (the global packages folder would otherwise serve a stale copy);
#   2. dotnet new console in a temporary folder, plus a nuget.config that adds the feed to the user's
#      sources, and PackageReferences to EarlyExit.MLNet, Microsoft.ML 6.0.0, Microsoft.ML.TorchSharp
#      0.24.0 and the one native-backend line of the README's Install section; built with warnings as
#      errors, so a warning the packages cause (restore included) fails the test;
#   3. the app fits Palbert on a few SST-2 rows (tiny-bert preset) and saves the model; a second process,
#      from the app's publish folder, loads it and checks identical scores (test/Consumer/Program.cs). On
#      Debian 12 both runs also prove the libstdc++ fix of the package's buildTransitive targets;
#   4. dotnet tool install --tool-path the packed tool, which trains a tiny model and evaluates it;
#   5. the first app scores through ML.NET on the ONNX Runtime backend (PalbertTransformer.WithBackend: the
#      labels and exit layers must be TorchSharp's) and exports the model to ONNX; a second fresh app
#      references EarlyExit.OnnxRuntime alone (no libtorch, EE0001 turned off as the README says), is
#      published for linux-x64, must hold no libtorch library, and scores the export with the same labels and exit layers (test/Consumer/OnnxProgram.cs);
#      both publish folders' sizes are printed;
#   6. without the backend line, the build warns EE0001 with the line to add.
# Needs ../shared (SST-2, and the tiny-bert preset's vocabulary through the EARLYEXIT_ASSETS mirror).
# Usage: bash test/Consumer/run.sh   (CI runs it after the unit tests; about 1.5 minutes on 2 cores)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
shared=$(cd "${EARLYEXIT_SHARED:-$repo/../shared}" 2>/dev/null && pwd) || {
  echo "consumer test: ../shared (SST-2 and the model mirror) is missing beside $repo; set EARLYEXIT_SHARED." >&2
  exit 1
}

# The versions the repository builds with (Directory.Packages.props holds every version); Microsoft.ML.TorchSharp,
# which the repository never references, is the ML.NET package users would add beside ours.
props="$repo/Directory.Packages.props"
ml_version=$(sed -n 's:.*<MicrosoftMLVersion>\(.*\)</MicrosoftMLVersion>.*:\1:p' "$props")
libtorch_version=$(sed -n 's:.*<PackageVersion Include="libtorch-cpu-linux-x64" Version="\([^"]*\)".*:\1:p' "$props")
torchsharp_version=$(sed -n 's:.*<PackageVersion Include="TorchSharp" Version="\([^"]*\)".*:\1:p' "$props")
prefix=$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' "$repo/Directory.Build.props")
mltorchsharp_version=0.24.0
[ -n "$ml_version" ] && [ -n "$libtorch_version" ] && [ -n "$torchsharp_version" ] && [ -n "$prefix" ] || {
  echo "consumer test: could not read the versions from Directory.Packages.props / Directory.Build.props" >&2; exit 1; }
version="$prefix-consumer.$(date +%Y%m%d%H%M%S).$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/earlyexit-consumer.XXXXXX")
packages=${NUGET_PACKAGES:-$HOME/.nuget/packages}
cleanup() {
  rm -rf "$work"
  for id in earlyexit.core earlyexit.mlnet earlyexit.cli earlyexit.onnxruntime; do rm -rf "$packages/$id/$version"; done
}
trap cleanup EXIT
step() { echo "== consumer test: $* ($(date +%T))"; }

step "pack $version"
for project in EarlyExit.Core EarlyExit.MLNet EarlyExit.Cli EarlyExit.OnnxRuntime; do
  dotnet pack "$repo/src/$project" -c Release -o "$work/feed" -p:VersionSuffix="${version#"$prefix"-}" -nologo -v q
done
ls "$work/feed"

step "a fresh console app that references the packages"
cd "$work"
dotnet new console -o app -n ConsumerApp --no-restore > /dev/null
cat > app/nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="earlyexit-local" value="$work/feed" />
  </packageSources>
</configuration>
XML
cd app
dotnet add package EarlyExit.MLNet --version "$version" --no-restore > /dev/null
dotnet add package Microsoft.ML --version "$ml_version" --no-restore > /dev/null
dotnet add package Microsoft.ML.TorchSharp --version "$mltorchsharp_version" --no-restore > /dev/null
dotnet add package libtorch-cpu-linux-x64 --version "$libtorch_version" --no-restore > /dev/null   # the README's one backend line
cp "$repo/test/Consumer/Program.cs" Program.cs
dotnet build -c Release -nologo -v q -p:TreatWarningsAsErrors=true -p:MSBuildTreatWarningsAsErrors=true
grep -q "EarlyExit.Core.targets" obj/ConsumerApp.csproj.nuget.g.targets || {
  echo "consumer test: the app's build does not import EarlyExit.Core's buildTransitive targets (the libstdc++ fix)" >&2; exit 1; }
app="dotnet bin/Release/net10.0/ConsumerApp.dll"

step "fit and save (build output), load in a new process (publish output)"
export EARLYEXIT_ASSETS="$shared"
sst2="$shared/data/SST-2"
$app fit "$sst2/train.tsv" "$sst2/dev.tsv" "$work/model.zip" "$work/scores.tsv"
dotnet publish -c Release -nologo -v q -p:TreatWarningsAsErrors=true -o "$work/publish"
dotnet "$work/publish/ConsumerApp.dll" load "$sst2/dev.tsv" "$work/model.zip" "$work/scores.tsv"

step "the ONNX Runtime backend: a second app without libtorch scores the model's export"
$app export "$sst2/dev.tsv" "$work/model.zip" "$work/onnx-model"
cd "$work"
dotnet new console -o onnx-app -n OnnxApp --no-restore > /dev/null
cp app/nuget.config onnx-app/
cd onnx-app
dotnet add package EarlyExit.OnnxRuntime --version "$version" --no-restore > /dev/null
cp "$repo/test/Consumer/OnnxProgram.cs" Program.cs
# No native TorchSharp backend on purpose: the README's line that turns EE0001 off for such an app.
dotnet publish -c Release -r linux-x64 --self-contained false -nologo -v q -p:TreatWarningsAsErrors=true -p:MSBuildTreatWarningsAsErrors=true \
  -p:EarlyExitNativeBackendCheck=false -o "$work/onnx-publish"
if find "$work/onnx-publish" -name 'libtorch*' -o -name 'libc10*' | grep -q .; then
  echo "consumer test: the ONNX app's publish folder holds libtorch" >&2; exit 1
fi
dotnet "$work/onnx-publish/OnnxApp.dll" score "$work/onnx-model" "$sst2/dev.tsv" "$work/scores.tsv"
echo "deployment: TorchSharp app $(du -sh "$work/publish" | cut -f1) (every platform's managed dependencies, libtorch for linux-x64), ONNX Runtime app $(du -sh "$work/onnx-publish" | cut -f1) (linux-x64); the ONNX export $(du -sh "$work/onnx-model" | cut -f1)"
cd "$work/app"

step "the earlyexit tool"
dotnet tool install EarlyExit.Cli --version "$version" --tool-path "$work/tools" --add-source "$work/feed" > /dev/null
echo "tool package $(du -h "$work/feed/EarlyExit.Cli.$version.nupkg" | cut -f1), installed $(du -sh "$work/tools" | cut -f1)"
head -n 41 "$sst2/dev.tsv" > "$work/dev40.tsv"
"$work/tools/earlyexit" classify train --train "$sst2/train.tsv" --max-train-rows 64 --text-column sentence --label-column label \
  --backbone tiny-bert --from-scratch --offline --epochs 1 --batch-size 16 --max-length 32 --out "$work/tool-model.zip"
"$work/tools/earlyexit" classify evaluate --model "$work/tool-model.zip" --data "$work/dev40.tsv" \
  --text-column sentence --label-column label --exit-criterion entropy:0.5 --metrics-json "$work/metrics.json"
grep -q '"accuracy"' "$work/metrics.json" || { echo "consumer test: the tool wrote no accuracy to metrics.json" >&2; exit 1; }

step "without a native backend, the build says which line to add"
dotnet remove package libtorch-cpu-linux-x64 > /dev/null
dotnet build -c Release -nologo -v q -o "$work/no-backend" > "$work/no-backend.log" 2>&1 || true
# The warning names the backend versions the repository builds with (build/NativeRuntime.targets spells them out).
ee0001=$(grep -m1 "warning EE0001" "$work/no-backend.log" || true)
if [[ "$ee0001" == *"libtorch-cpu-linux-x64 $libtorch_version"* && "$ee0001" == *"TorchSharp-cpu $torchsharp_version"* \
      && "$ee0001" == *"TorchSharp-cuda-linux $torchsharp_version"* ]]; then
  grep -m1 "EE0001" "$work/no-backend.log" | sed 's/^.*warning/warning/'
else
  cat "$work/no-backend.log"; echo "consumer test: no EE0001 warning naming libtorch-cpu-linux-x64 $libtorch_version and TorchSharp-cpu/-cuda-linux $torchsharp_version for an app without libtorch" >&2; exit 1
fi

step "passed"
