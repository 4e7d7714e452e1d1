"""Tests of tools/bench.py's package (tools/nin_tools/bench/) without its peers: the CPU flags
from /proc/cpuinfo, the family that `nin-infer --profile` says ran, the kernel families
nin-infer --list-kernels gives (families.py), the callgrind totals line (callgrind.py), the
timing loop shared with the bench kit (timing.py), and the command's options.
(The benchmark itself is `make bench`; it needs onnxruntime.)

Run: python -m pytest tools/tests/test_bench.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nin_tools.bench import callgrind, families, timing  # tools/ is on pytest's import path (pytest.ini)

TOOLS = Path(__file__).resolve().parents[1]
BENCH = TOOLS / "bench.py"
ENGINES = TOOLS.parent / "bench" / "kit" / "engines.py"

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx2 fma avx512f avx512bw avx512vl avx512_vnni avx_vnni amx_tile amx_int8 amx_bf16

processor\t: 1
model name\t: some other name
flags\t\t: fpu sse2
"""


# The flags of an x86-64 build's families, in its table's order (as family_cpu_flags gives them).
X86_FLAGS = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "amx_tile", "amx_int8", "avx_vnni"]


def test_cpuinfo_reports_the_first_processor_and_the_flags_that_matter():
    cpu = families.parse_cpuinfo(CPUINFO, X86_FLAGS)
    assert cpu["model"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert cpu["flags"] == X86_FLAGS       # amx_bf16, sse2, fpu: not listed
    assert cpu["missing"] == []


def test_cpuinfo_lists_what_an_avx2_only_cpu_lacks():
    text = "model name\t: AMD Ryzen 7 5800X\nflags\t\t: sse2 avx avx2 fma bmi2\n"
    cpu = families.parse_cpuinfo(text, X86_FLAGS)
    assert cpu["flags"] == ["avx2", "fma"]
    assert cpu["missing"] == ["avx512f", "avx512bw", "avx512vl", "avx512_vnni", "amx_tile", "amx_int8", "avx_vnni"]
    assert families.cpu_flags_line(cpu) == ("CPU flags: avx2 fma (not: avx512f avx512bw avx512vl "
                                            "avx512_vnni amx_tile amx_int8 avx_vnni)")


def test_the_flags_are_the_families_own_each_once_in_table_order():
    listed = [{"name": "amx", "cpu_flags": ["avx2", "fma", "amx_tile"]},
              {"name": "avxvnni", "cpu_flags": ["avx2", "fma", "avx_vnni"]},
              {"name": "portable", "cpu_flags": []}, {"name": "generic"}]
    assert families.family_cpu_flags(listed) == ["avx2", "fma", "amx_tile", "avx_vnni"]


def test_a_family_the_cpu_lacks_is_skipped_with_the_engines_reason():
    assert families.skip_reason("avxvnni", "avx2", "CPU lacks avx_vnni") == "NIN_ISA=avxvnni ran avx2: CPU lacks avx_vnni"
    # no reason from the engine: the fallback came from the build or the OS
    assert "this build, the CPU or its OS" in families.skip_reason("avx512vnni", "avx2", None)
    assert families.skip_reason("avx512vnni", "avx2", None, where="valgrind's virtual CPU") == \
        "NIN_ISA=avx512vnni ran avx2: valgrind's virtual CPU lacks it"


def test_profile_output_gives_the_family_and_the_total():
    text = ("profile: 1 run(s), kernels avx2, 1 thread(s); median per layer\n"
            "  0 conv 227x227x1 -> 55x55x96: 0.5987 ms  58.6913 GMAC/s  [avx2 (int16)]\n"
            "  total: 22.2144 ms\n")
    assert families.parse_profile(text) == ("avx2", 22.2144)
    assert families.parse_profile("no profile here\n") == (None, None)


def test_kernel_families_are_nin_infers_list(tmp_path):
    # The families come from `nin-infer --list-kernels --json` (the engine's table), in its order.
    listed = [{"name": "amx", "supported": False, "reason": "CPU lacks amx_tile/amx_int8", "chosen": False},
              {"name": "avx2", "supported": True, "reason": None, "chosen": True},
              {"name": "generic", "supported": True, "reason": None, "chosen": False}]
    cli = tmp_path / "nin-infer"
    cli.write_text("#!/bin/sh\n[ \"$*\" = \"--list-kernels --json\" ] || exit 2\n"
                   f"echo '{json.dumps(listed)}'\n")
    cli.chmod(0o755)
    assert families.kernel_families(cli) == listed
    assert families.kernel_family_names(cli) == ["amx", "avx2", "generic"]
    cli.write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    with pytest.raises(RuntimeError, match="exited with 3: broken"):
        families.kernel_families(cli)


def test_callgrind_total_reads_the_totals_line(tmp_path):
    out = tmp_path / "callgrind.out"
    out.write_text("version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 0\n"
                   "fn=main\n1 5\n\ntotals: 114560402\n")
    assert callgrind.callgrind_total(out) == 114560402
    out.write_text("events: Ir\nsummary: 77\n")
    assert callgrind.callgrind_total(out) == 77
    out.write_text("events: Ir\n")
    assert callgrind.callgrind_total(out) is None


def test_time_calls_warms_up_then_times_each_run():
    calls = []
    times = timing.time_calls(lambda: calls.append(len(calls)), 7, warmup=3)
    assert len(calls) == 10 and len(times) == 7
    assert all(t >= 0 for t in times)
    assert timing.summary([3.0, 1.0, 2.0]) == {"median_ms": 2.0, "best_ms": 1.0, "runs": 3}
    calls.clear()
    assert timing.median_ms(lambda: calls.append(1), 5, warmup=2) >= 0
    assert len(calls) == 7


def test_the_command_lists_its_options():
    # tools/bench.py is a thin entry over the package: --help must still show every option.
    r = subprocess.run([sys.executable, str(BENCH), "--help"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("usage: bench.py")
    assert "nin against its peers on the same weights" in r.stdout
    for option in ("--models", "--runs", "--agree-images", "--calib-images", "--cold-runs", "--image",
                   "--quick", "--callgrind-only", "--peers-only", "--no-torch", "--no-openvino",
                   "--openvino-profile", "--no-cold", "--no-callgrind", "--out"):
        assert option in r.stdout


def _engines_helpers(engines_py: Path) -> list[str]:
    """The files the bench kit's engines.py, imported from `engines_py`, takes its timing loop
    and layer tables from."""
    code = ("import sys; sys.argv = ['engines.py']; sys.path.insert(0, %r); "
            "import engines; print(engines.timing.__file__); print(engines.layer_profile.__file__)"
            % str(engines_py.parent))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=engines_py.parent)
    assert r.returncode == 0, r.stderr
    return [str(Path(line).resolve()) for line in r.stdout.split()]


def test_the_kits_engines_py_times_with_the_same_loop(tmp_path):
    # In the repository engines.py imports tools/nin_tools/bench/timing.py; in the kit, the copy
    # make bench-kit puts beside it (with layer_profile.py): one timing loop for both.
    assert _engines_helpers(ENGINES) == [str(TOOLS / "nin_tools" / "bench" / "timing.py"),
                                         str(TOOLS / "nin_tools" / "layer_profile.py")]
    for source in (ENGINES, TOOLS / "nin_tools" / "bench" / "timing.py", TOOLS / "nin_tools" / "layer_profile.py"):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    assert _engines_helpers(tmp_path / "engines.py") == [str(tmp_path / "timing.py"),
                                                         str(tmp_path / "layer_profile.py")]
