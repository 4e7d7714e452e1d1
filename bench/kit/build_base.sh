#!/usr/bin/env bash
# Builds the static nin-infer of another commit into OUT_DIR, for bench/kit/run.sh to time against
# this build, interleaved, on the machine the kit travels to (did a change make a family faster
# where the development machine cannot tell, e.g. AMX?). Called by `make bench-kit BASE=<commit>`.
#   bench/kit/build_base.sh COMMIT OUT_DIR
set -euo pipefail
commit=$1 out=$2
dir=$(mktemp -d /tmp/nin-base-XXXXXX)
git worktree add --quiet --detach "$dir" "$commit"
trap 'git worktree remove --force "$dir"' EXIT
(cd "$dir" && swift build -c release -Xswiftc -static-executable -Xlinker -lz --product nin-infer --scratch-path .build-cli)
mkdir -p "$out"
cp "$dir/.build-cli/release/nin-infer" "$out/nin-infer"
git -C "$dir" log -1 --format='%h %s' | cut -c1-100 > "$out/commit.txt"
echo "base nin-infer: $(cat "$out/commit.txt")"
