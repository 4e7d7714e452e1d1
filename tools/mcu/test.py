#!/usr/bin/env python3
"""tools/mcu/test.py [BUILD]: runs the firmware images of tools/mcu/build.sh (default
.build-mcu) under qemu-system-arm on each MPS2 board (mps2-an386: Cortex-M4F; mps2-an500:
Cortex-M7) with semihosting, once with each kernel family an image is checked with (nin-mcu.elf:
cortexm, the default, and generic, the reference kernels: -append NIN_ISA=generic;
nin-mcu-all.elf: portable, the family the firmware leaves out), and checks that it exits with status 0 within the timeout, ran the family
asked for, printed a result for every example image, and that each image's logits equal, bit for
bit, Tests/golden/shipped/fashion_small/<image>.logits.f32: the numpy reference's logits
(tools/make_golden.py), which the host build's golden tests match bit for bit. Then, on each
board, the check firmware (nin-mcu-check.elf: tools/mcu/KernelCheck.swift) runs CHECK_TRIALS
random convolutions of NiNKernelCheck (the generator nin-kernel-check uses) with the cortexm
family and with the reference kernels, both on the board, and must report every layer's output
equal byte for byte. `make test-mcu` runs it. Exit status 0 when every board passes, 1
otherwise (each failure is printed)."""
import shutil
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "Tests" / "golden" / "shipped" / "fashion_small"
BOARDS = ("mps2-an386", "mps2-an500")
# Each image and the kernel families it is run with.
IMAGES = {"nin-mcu.elf": ("cortexm", "generic"), "nin-mcu-all.elf": ("portable",)}
TIMEOUT_S = 120
CHECK_IMAGE = "nin-mcu-check.elf"
# The random convolutions the check firmware runs (nin-kernel-check's default count and seed).
CHECK_TRIALS, CHECK_SEED = 300, 2026
# The families the check firmware must compare with the reference.
CHECK_FAMILIES = ("cortexm",)


def run(board: str, family: str, elf: Path, append: str = "") -> tuple[int, str]:
    """The firmware's exit status and output on `board` with kernel family `family` (or the
    command line `append`); status None on a timeout."""
    command = ["qemu-system-arm", "-M", board, "-nographic", "-monitor", "none", "-serial", "none",
               "-semihosting-config", "enable=on,target=native", "-kernel", str(elf),
               "-append", append or f"NIN_ISA={family}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        return None, out
    return done.returncode, done.stdout + done.stderr


def check(board: str, family: str, elf: Path) -> list[str]:
    """The failures of one run (empty when it passes)."""
    status, output = run(board, family, elf)
    board = f"{board} {elf.name} {family}"
    if status is None:
        return [f"{board}: no exit within {TIMEOUT_S} s (hang); output so far:\n{output}"]
    failures = [] if status == 0 else [f"{board}: exit status {status}; output:\n{output}"]
    seen, kernels = {}, None
    for line in output.splitlines():
        words = line.split()
        if words[:1] == ["kernels"] and len(words) == 2:
            kernels = words[1]
        if words[:1] == ["image"] and "bits" in words and "logits" in words:
            seen[words[1]] = [int(w, 16) for w in words[words.index("bits") + 1:words.index("logits")]]
    if kernels != family:
        failures.append(f"{board}: ran kernel family {kernels}, not {family}")
    goldens = sorted(GOLDEN.glob("*.logits.f32"))
    if not goldens:
        return [f"no golden logits under {GOLDEN}"]
    for path in goldens:
        name = path.name[:-len(".logits.f32")]
        data = path.read_bytes()
        expected = list(struct.unpack(f"<{len(data) // 4}I", data))
        if name not in seen:
            failures.append(f"{board}: {name}: no result printed")
        elif seen[name] != expected:
            failures.append(f"{board}: {name}: logits {' '.join(f'{b:08x}' for b in seen[name])} "
                            f"!= host {' '.join(f'{b:08x}' for b in expected)}")
    if not failures:
        print(f"test-mcu: {board}: {len(goldens)} images, logits equal the host's bit for bit, exit 0")
    return failures


def check_kernels(board: str, elf: Path) -> list[str]:
    """The failures of the check firmware's run on `board` (empty when it passes)."""
    status, output = run(board, "", elf, f"trials={CHECK_TRIALS} seed={CHECK_SEED}")
    where = f"{board} {elf.name}"
    if status is None:
        return [f"{where}: no exit within {TIMEOUT_S} s (hang); output so far:\n{output}"]
    failures = [] if status == 0 else [f"{where}: exit status {status}; output:\n{output}"]
    reported = {}
    for line in output.splitlines():
        words = line.split()
        if words[:1] == ["kernel-check"] and len(words) >= 4 and "/" in words[3]:
            reported[words[1]] = (words[2], words[3])
    expected = f"{CHECK_TRIALS}/{CHECK_TRIALS}"
    for family in CHECK_FAMILIES:
        if reported.get(family) != ("ok", expected):
            shown = "" if status != 0 else f"; output:\n{output}"  # (shown above with the exit status)
            failures.append(f"{where}: {family}: {' '.join(reported.get(family, ('not reported',)))}, not ok {expected}{shown}")
    if not failures:
        for family in CHECK_FAMILIES:
            print(f"test-mcu: {where}: {family}: {CHECK_TRIALS} random convolutions (seed {CHECK_SEED}) "
                  "equal the reference kernels run on the board, byte for byte, exit 0")
    return failures


def main() -> int:
    build = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".build-mcu"
    for image in (*IMAGES, CHECK_IMAGE):
        if not (build / image).is_file():
            print(f"test-mcu: no firmware at {build / image} (run make mcu)")
            return 1
    if shutil.which("qemu-system-arm") is None:
        print("test-mcu: qemu-system-arm not found (.ci/deps installs qemu-system-arm)")
        return 1
    failures = [f for board in BOARDS for image, families in IMAGES.items() for family in families
                for f in check(board, family, build / image)]
    failures += [f for board in BOARDS for f in check_kernels(board, build / CHECK_IMAGE)]
    for failure in failures:
        print(f"test-mcu: FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
