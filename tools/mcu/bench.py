#!/usr/bin/env python3
"""tools/mcu/bench.py [BUILD]: the firmware's figures (default .build-mcu: nin-mcu.elf, with the
cortexm and generic families, and nin-mcu-all.elf, which adds portable, from tools/mcu/build.sh),
printed as a table; `make bench-mcu` runs it. Flash is nin-mcu.elf's (and the code of
nin-mcu-all.elf); each family's RAM and instructions come from the image that has it.

- flash: code (.text and the unwind tables), constants (.rodata less the model and the images:
  Swift's Unicode tables among them), the model file (its weights), the prepared images, and
  .data's initial values; from the ELF's sections and symbols (arm-none-eabi-size, -nm);
- RAM: the arena (what the model needs, and the static array reserved), the static pool the
  model's objects come from (bytes used at the end of the run, and reserved), other static data
  (.data and .bss less the arena and the pool), the stack's high-water mark (the stack is painted
  at reset) and size; the used and reserved figures are what the firmware prints;
- instructions, counted under qemu-system-arm -M mps2-an386 by the TCG plugin tools/qemu/insn_count.c
  (built here with the host's cc): loading the model and making the context, and each inference
  (the instructions between the firmware's mcu_mark() calls around nin_run_prepared_u8); and,
  with CMSIS_NN and CMSIS_CORE set (sources not in this repository), CMSIS-NN's instructions for
  the same layer shapes (bench_cmsis_nn.sh), the anchor of the cortexm family.
RAM and instructions are given for each kernel family of the firmware, chosen by the command line
(-append NIN_ISA=...): cortexm (the default: the DSP extension's SMLAD, weights read in place
from flash, im2col chunks of at most 3.5 KB), portable (packs the weights into the pool, im2col
scratch in the arena) and generic (the reference kernels: weights in place, no im2col)."""
import os
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


FAMILIES = ("cortexm", "portable", "generic")
# The image each family is measured in.
IMAGE = {"cortexm": "nin-mcu.elf", "portable": "nin-mcu-all.elf", "generic": "nin-mcu.elf"}


def build_plugin(workdir: Path) -> Path:
    plugin = workdir / "insn_count.so"
    source = ROOT / "tools" / "qemu" / "insn_count.c"
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", str(source), "-o", str(plugin)], check=True)
    return plugin


def run_counted(elf: Path, mark: int, plugin: Path, family: str) -> tuple[dict, list[int], int]:
    """The firmware's figures, the instruction counts at its marks, and the whole run's count,
    with kernel family `family` on mps2-an386."""
    log = plugin.parent / f"insn-{family}.log"
    done = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
                           "-semihosting-config", "enable=on,target=native", "-kernel", str(elf),
                           "-append", f"NIN_ISA={family}",
                           "-plugin", f"{plugin},mark={mark:#x}", "-d", "plugin", "-D", str(log)],
                          capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        sys.exit(f"bench-mcu: the firmware exited with {done.returncode}:\n{output}")
    figures = {w[1]: int(w[2]) for w in (line.split() for line in output.splitlines()) if w[:1] == ["figure"]}
    lines = log.read_text().splitlines()
    marks = [int(line.split()[2]) for line in lines if line.startswith("insn mark ")]
    total = [int(line.split()[2]) for line in lines if line.startswith("insn total ")]
    return figures, marks, total[0] if total else 0


def main() -> int:
    build = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".build-mcu"
    for image in set(IMAGE.values()):
        if not (build / image).is_file():
            print(f"bench-mcu: no firmware at {build / image} (run make mcu)")
            return 1
    elf = build / IMAGE[FAMILIES[0]]
    size, sym = sections(elf), symbols(elf)
    runs, static, sizes = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        plugin = build_plugin(Path(tmp))
        for family in FAMILIES:
            image = build / IMAGE[family]
            image_size, image_sym = sections(image), symbols(image)
            runs[family] = run_counted(image, image_sym["mcu_mark"][0], plugin, family)
            sizes[family] = {"arena": image_sym["arena"][1], "pool": image_sym["heap_array"][1]}
            static[family] = (image_size.get(".data", 0) + image_size[".bss"]
                              - image_sym["arena"][1] - image_sym["heap_array"][1])
    all_size = sections(build / IMAGE["portable"])
    all_code = all_size.get(".text", 0) + all_size.get(".ARM.exidx", 0) + all_size.get(".ARM.extab", 0)
    model = sym["nin_mcu_model_end"][0] - sym["nin_mcu_model"][0]
    images = sym["mcu_images"][1]
    code = size.get(".text", 0) + size.get(".ARM.exidx", 0) + size.get(".ARM.extab", 0)
    constants = size[".rodata"] - model - images
    data = size.get(".data", 0)

    def row(what: str, values, note: str = "") -> None:
        cells = "".join(f"{v:>14,}" if isinstance(v, int) else f"{v:>14}" for v in values)
        print(f"  {what:<30}{cells}  {note}")

    print(f"nin on a Cortex-M4F (qemu-system-arm -M mps2-an386), {elf.name}")
    print("flash (bytes)")
    row("code", [code], ".text + unwind tables (cortexm and generic, the C API, the engine); "
        f"goal at most 65,536: {'met' if code <= 65536 else 'not met'}")
    row("code with portable too", [all_code], f"{IMAGE['portable']}, which make test-mcu runs portable on")
    row("constants", [constants], ".rodata less model and images (Swift's Unicode and static tables among them)")
    row("model file (weights)", [model], "the .nin file in flash, parsed in place")
    row("example images", [images], "prepared 28x28 inputs")
    row(".data initial values", [data])
    row("total", [code + size[".rodata"] + data])
    row("kernel family", list(FAMILIES))
    row("image", [IMAGE[f].removesuffix(".elf") for f in FAMILIES])
    print("RAM (bytes)")
    need = {f: runs[f][0] for f in FAMILIES}
    row("arena: needed", [need[f]["arena_needed"] for f in FAMILIES], "nin_model_arena_bytes")
    row("arena: reserved", [sizes[f]["arena"] for f in FAMILIES], "static array (ARENA_BYTES)")
    row("pool: used", [need[f]["pool_used"] for f in FAMILIES],
        "the model's objects, and packed weights where the family packs them")
    row("pool: high-water mark", [need[f]["pool_bytes"] for f in FAMILIES], "the pool's extent (load included)")
    row("pool: reserved", [sizes[f]["pool"] for f in FAMILIES], "nin_platform_bare.c's static pool (POOL_BYTES)")
    row("other static data", [static[f] for f in FAMILIES], ".data + .bss less arena and pool")
    row("stack: high-water mark", [need[f]["stack_high_water"] for f in FAMILIES], "painted at reset")
    row("stack: reserved", [need[f]["stack_reserved"] for f in FAMILIES], "STACK_BYTES")
    row("used: arena+pool+data+stack",
        [need[f]["arena_needed"] + need[f]["pool_bytes"] + static[f] + need[f]["stack_high_water"] for f in FAMILIES],
        "high-water marks")
    row("reserved: arena+pool+data+stack",
        [sizes[f]["arena"] + sizes[f]["pool"] + static[f] + need[f]["stack_reserved"] for f in FAMILIES],
        "what the image's RAM must hold")
    print("instructions (qemu TCG plugin insn_count.c)")
    marks = {f: runs[f][1] for f in FAMILIES}
    per = {f: [b - a for a, b in zip(marks[f][1::2], marks[f][2::2])] for f in FAMILIES}
    row("load model + make context", [marks[f][1] - marks[f][0] for f in FAMILIES])
    row("per inference (min)", [min(per[f]) for f in FAMILIES], f"over {len(per[FAMILIES[0]])} images")
    row("per inference (max)", [max(per[f]) for f in FAMILIES])
    row("whole run", [runs[f][2] for f in FAMILIES], "reset to exit")
    anchor = cmsis_nn_instructions()
    if anchor:
        best = min(per[FAMILIES[0]])
        print(f"CMSIS-NN (tools/mcu/bench_cmsis_nn.sh, same layer shapes): {anchor:,} instructions per inference; "
              f"nin {FAMILIES[0]} {best / anchor:.3f}x")
    else:
        print("CMSIS-NN: set CMSIS_NN (a CMSIS-NN checkout) and CMSIS_CORE (CMSIS_6's CMSIS/Core/Include) to compare")
    return 0


def cmsis_nn_instructions() -> int:
    """CMSIS-NN's instructions per inference of the same network (bench_cmsis_nn.sh), or 0
    when CMSIS_NN and CMSIS_CORE do not name the sources."""
    nn, core = os.environ.get("CMSIS_NN"), os.environ.get("CMSIS_CORE")
    if not nn or not core:
        return 0
    out = subprocess.run([str(HERE / "bench_cmsis_nn.sh"), nn, core], capture_output=True, text=True, check=True).stdout
    found = [line.split()[1] for line in out.splitlines() if line.startswith("cmsis-nn: ") and "per inference" in line]
    return int(found[0]) if found else 0


if __name__ == "__main__":
    sys.exit(main())
