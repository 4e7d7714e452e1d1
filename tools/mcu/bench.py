#!/usr/bin/env python3
"""tools/mcu/bench.py [ELF]: the firmware's figures (default .build-mcu/nin-mcu.elf, from
tools/mcu/build.sh), printed as a table; `make bench-mcu` runs it.

- flash: code (.text and the unwind tables), constants (.rodata less the model and the images:
  Swift's Unicode tables among them), the model file (its weights), the prepared images, and
  .data's initial values; from the ELF's sections and symbols (arm-none-eabi-size, -nm);
- RAM: the arena (what the model needs, and the static array reserved), the static pool the
  model's objects come from (bytes used at the end of the run, and reserved), other static data
  (.data and .bss less the arena and the pool), the stack's high-water mark (the stack is painted
  at reset) and size; the used and reserved figures are what the firmware prints;
- instructions, counted under qemu-system-arm -M mps2-an386 by the TCG plugin insn_count.c
  (built here with the host's cc): loading the model and making the context, and each inference
  (the instructions between the firmware's mcu_mark() calls around nin_run_prepared_u8)."""
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def sections(elf: Path) -> dict:
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    return {w[0]: int(w[1]) for w in (line.split() for line in out.splitlines()) if len(w) == 3 and w[1].isdigit()}


def symbols(elf: Path) -> dict:
    out = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 4:
            found[words[3]] = (int(words[0], 16), int(words[1], 16))
        elif len(words) == 3:
            found[words[2]] = (int(words[0], 16), 0)
    return found


def run_counted(elf: Path, mark: int, workdir: Path) -> tuple[str, list[int], int]:
    plugin = workdir / "insn_count.so"
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", str(HERE / "insn_count.c"), "-o", str(plugin)], check=True)
    log = workdir / "insn.log"
    done = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
                           "-semihosting-config", "enable=on,target=native", "-kernel", str(elf),
                           "-plugin", f"{plugin},mark={mark:#x}", "-d", "plugin", "-D", str(log)],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"bench-mcu: the firmware exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    lines = log.read_text().splitlines()
    marks = [int(line.split()[2]) for line in lines if line.startswith("insn mark ")]
    total = [int(line.split()[2]) for line in lines if line.startswith("insn total ")]
    return done.stdout + done.stderr, marks, total[0] if total else 0


def main() -> int:
    elf = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".build-mcu" / "nin-mcu.elf"
    if not elf.is_file():
        print(f"bench-mcu: no firmware at {elf} (run make mcu)")
        return 1
    size, sym = sections(elf), symbols(elf)
    with tempfile.TemporaryDirectory() as tmp:
        output, marks, total = run_counted(elf, sym["mcu_mark"][0], Path(tmp))
    figures = {w[1]: int(w[2]) for w in (line.split() for line in output.splitlines()) if w[:1] == ["figure"]}
    model = sym["nin_mcu_model_end"][0] - sym["nin_mcu_model"][0]
    images = sym["mcu_images"][1]
    arena, pool = sym["arena"][1], sym["heap_array"][1]
    code = size.get(".text", 0) + size.get(".ARM.exidx", 0) + size.get(".ARM.extab", 0)
    constants = size[".rodata"] - model - images
    data = size.get(".data", 0) + size.get(".got", 0) + size.get(".got.plt", 0)
    static = data + size[".bss"] - arena - pool
    inferences = [b - a for a, b in zip(marks[1::2], marks[2::2])]
    load = marks[1] - marks[0] if len(marks) > 1 else 0

    def row(what: str, value: int, note: str = "") -> None:
        print(f"  {what:<34} {value:>11,}  {note}")

    print(f"nin on a Cortex-M4F (qemu-system-arm -M mps2-an386), {elf.name}: portable kernel family")
    print("flash (bytes)")
    row("code", code, ".text + unwind tables")
    row("constants", constants, ".rodata less model and images (Swift's Unicode tables among them)")
    row("model file (weights)", model, "the file in flash, parsed in place")
    row("example images", images, f"{figures.get('images', len(inferences))} prepared 28x28 inputs")
    row(".data initial values", data)
    row("total", code + size[".rodata"] + data)
    print("RAM (bytes)")
    row("arena: needed", figures["arena_needed"], "nin_model_arena_bytes")
    row("arena: reserved", arena, "static array (ARENA_BYTES)")
    row("pool: used", figures["pool_used"], "the model's objects and packed weights")
    row("pool: reserved", pool, "nin_platform_bare.c's static pool (POOL_BYTES)")
    row("other static data", static, ".data + .bss less arena and pool")
    row("stack: high-water mark", figures["stack_high_water"], "painted at reset")
    row("stack: reserved", figures["stack_reserved"], "STACK_BYTES")
    row("used: arena + pool + data + stack", figures["arena_needed"] + figures["pool_used"] + static
        + figures["stack_high_water"])
    print("instructions (qemu TCG plugin insn_count.c)")
    row("load model + make context", load)
    if inferences:
        row("per inference (min)", min(inferences), f"over {len(inferences)} images")
        row("per inference (max)", max(inferences))
    row("whole run", total, "reset to exit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
