"""The CPU's flags (/proc/cpuinfo) and nin's kernel families on this machine: the families
`nin-infer --list-kernels --json` lists, the NIN_ISA environment that picks one, which of them
really run here (`nin-infer --profile 1`) and why the others are skipped."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from pathlib import Path

from nin_tools.bench.common import RELEASE


# A family slower than this per image (nin-infer --profile 1) is timed with one warm-up run and
# one timed run per round (the generic reference kernels take about 0.5 s on the classic model),
# and is left out of the instruction counts (minutes under callgrind).
SLOW_FAMILY_MS = 100.0


def parse_cpuinfo(text: str, wanted: list[str]) -> dict:
    """The first processor's "model name" and which of the flags `wanted` (the families' own,
    `family_cpu_flags`) its "flags" line lists."""
    model, flags = None, set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model is None:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    return {"model": model or platform.processor() or "unknown",
            "flags": [f for f in wanted if f in flags],
            "missing": [f for f in wanted if f not in flags]}


def family_cpu_flags(families: list[dict]) -> list[str]:
    """Every CPU flag a family of `kernel_families` needs, in the table's order, each once: the
    flags that decide which kernels nin (and, on the same CPU, its peers) can run."""
    flags: list[str] = []
    for family in families:
        flags += [f for f in family.get("cpu_flags", []) if f not in flags]
    return flags


def cpu_features(cli: Path | None = None) -> dict:
    """parse_cpuinfo of this machine's /proc/cpuinfo for the build's families' flags (no flags
    where there is no /proc/cpuinfo)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    return parse_cpuinfo(text, family_cpu_flags(kernel_families(cli)))


def cpu_flags_line(cpu: dict) -> str:
    missing = f" (not: {' '.join(cpu['missing'])})" if cpu["missing"] else ""
    return f"CPU flags: {' '.join(cpu['flags']) or 'none of ' + ' '.join(cpu['missing'])}{missing}"


def kernel_families(cli: Path | None = None) -> list[dict]:
    """The build's kernel families in the order a load prefers them, as `nin-infer
    --list-kernels --json` lists them from the engine's own table: [{"name", "supported",
    "reason" (why this CPU cannot run it, or None), "chosen", "cpu_flags"}]."""
    cli = cli or RELEASE / "nin-infer"
    r = subprocess.run([str(cli), "--list-kernels", "--json"], capture_output=True, text=True, env=isa_env(None))
    if r.returncode != 0:
        raise RuntimeError(f"{cli} --list-kernels --json exited with {r.returncode}: {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout)


def kernel_family_names(cli: Path | None = None) -> list[str]:
    """The NIN_ISA values of `kernel_families`, best first."""
    return [family["name"] for family in kernel_families(cli)]


def isa_env(isa: str | None) -> dict:
    """This process's environment with NIN_ISA=`isa` (None: NIN_ISA removed, the library's choice)."""
    env = dict(os.environ)
    env.pop("NIN_ISA", None)
    if isa is not None:
        env["NIN_ISA"] = isa
    return env


def parse_profile(text: str) -> tuple[str | None, float | None]:
    """(family, total ms) from `nin-infer --profile N` output: its first line says
    "profile: N run(s), kernels FAMILY, ..." and a later one "total: T ms"."""
    fam = re.search(r"^profile:.*?\bkernels (\w+)", text, re.M)
    total = re.search(r"^\s*total: ([\d.]+) ms", text, re.M)
    return (fam.group(1) if fam else None), (float(total.group(1)) if total else None)


def profile_family(cli: list[str], model: Path, image: Path, isa: str | None) -> tuple[str | None, float | None]:
    """parse_profile of `cli --profile 1 --model MODEL IMAGE` run with NIN_ISA=`isa`."""
    r = subprocess.run(cli + ["--profile", "1", "--model", str(model), str(image)],
                       capture_output=True, text=True, env=isa_env(isa))
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cli)} --profile 1 (NIN_ISA={isa}) exited with "
                           f"{r.returncode}: {r.stderr.strip()[-300:]}")
    return parse_profile(r.stdout)


def skip_reason(isa: str, ran: str | None, reason: str | None, where: str = "the CPU") -> str:
    """Why NIN_ISA=`isa` ran family `ran` instead: `reason` (the engine's, from
    `kernel_families`) on this CPU, or that `where` (valgrind's virtual CPU) lacks it."""
    why = f"NIN_ISA={isa} ran {ran or 'an unknown family'}: "
    if where != "the CPU":
        return why + f"{where} lacks it"
    return why + (reason or "this build, the CPU or its OS lacks it")


def probe_families(cli: Path, model: Path, image: Path, cpu: dict) -> dict:
    """Which kernel families run on this machine: each NIN_ISA value is tried with
    `nin-infer --profile 1`, whose first line names the family that really ran (a family the
    CPU lacks falls back to another).  {"auto": the library's choice, "available": [{"family",
    "profile_ms"}] with auto first, "skipped": {family: reason}}."""
    auto, auto_ms = profile_family([str(cli)], model, image, None)
    available, skipped = [], {}
    for family in kernel_families(cli):
        name = family["name"]
        ran, ms = (auto, auto_ms) if name == auto else profile_family([str(cli)], model, image, name)
        if ran == name:
            available.append({"family": name, "profile_ms": ms})
        else:
            skipped[name] = skip_reason(name, ran, family["reason"])
    available.sort(key=lambda f: (f["family"] != auto, f["profile_ms"] or float("inf")))
    return {"auto": auto, "available": available, "skipped": skipped}


def families_line(fams: dict) -> str:
    names = [f"{f['family']}{' (auto)' if f['family'] == fams['auto'] else ''}"
             for f in fams["available"]]
    line = f"kernel families: {', '.join(names)}"
    if fams["skipped"]:
        line += "; skipped: " + "; ".join(f"{k} ({v})" for k, v in fams["skipped"].items())
    return line
