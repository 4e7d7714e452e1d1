#!/usr/bin/env bash
# Regenerates the committed seed corpora of the fuzz targets (fuzz/corpus/{model,png}/) from
# files the repository already has: the small golden-test models (Tests/golden/net/*/model.nin,
# 0.3 to 15 KB each) and every PNG example and fixture (examples/images, Tests/fixtures/png,
# the bad ones included). The shipped models are large, so they are not copied: fuzz/run.sh adds
# models/fashion_small.nin to the model target's seeds from models/ at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f fuzz/corpus/model/* fuzz/corpus/png/*
for model in Tests/golden/net/*/model.nin; do
    cp "$model" "fuzz/corpus/model/$(basename "$(dirname "$model")").nin"
done
for png in examples/images/*.png Tests/fixtures/png/*.png Tests/fixtures/png/bad/*.png; do
    name=$(basename "$png")
    case "$png" in */bad/*) name="bad_$name" ;; esac
    cp "$png" "fuzz/corpus/png/$name"
done
echo "fuzz/corpus/model: $(ls fuzz/corpus/model | wc -l) files, fuzz/corpus/png: $(ls fuzz/corpus/png | wc -l) files"
