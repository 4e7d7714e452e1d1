"""Tests of tools/bench.py's parsers: the CPU flags from /proc/cpuinfo, the family that
`nin-infer --profile` says ran, the kernel families nin-infer --list-kernels gives, and the
callgrind totals line. (The benchmark itself is `make bench`; it needs onnxruntime.)

Run: python -m pytest tools/tests/test_bench.py
"""

from __future__ import annotations

import json

import pytest

import bench  # tools/ is on pytest's import path (pytest.ini)

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx2 fma avx512f avx512bw avx512vl avx512_vnni avx_vnni amx_tile amx_int8 amx_bf16

processor\t: 1
model name\t: some other name
flags\t\t: fpu sse2
"""


def test_cpuinfo_reports_the_first_processor_and_the_flags_that_matter():
    cpu = bench.parse_cpuinfo(CPUINFO)
    assert cpu["model"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert cpu["flags"] == list(bench.CPU_FLAGS)          # amx_bf16, sse2, fpu: not listed
    assert cpu["missing"] == []


def test_cpuinfo_lists_what_an_avx2_only_cpu_lacks():
    text = "model name\t: AMD Ryzen 7 5800X\nflags\t\t: sse2 avx avx2 fma bmi2\n"
    cpu = bench.parse_cpuinfo(text)
    assert cpu["flags"] == ["avx2", "fma"]
    assert cpu["missing"] == ["avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
                              "amx_tile", "amx_int8"]
    assert bench.cpu_flags_line(cpu) == ("CPU flags: avx2 fma (not: avx512f avx512bw avx512vl "
                                         "avx512_vnni avx_vnni amx_tile amx_int8)")


def test_a_family_the_cpu_lacks_is_skipped_with_the_engines_reason():
    assert bench.skip_reason("avxvnni", "avx2", "CPU lacks avx_vnni") == "NIN_ISA=avxvnni ran avx2: CPU lacks avx_vnni"
    # no reason from the engine: the fallback came from the build or the OS
    assert "this build, the CPU or its OS" in bench.skip_reason("avx512vnni", "avx2", None)
    assert bench.skip_reason("avx512vnni", "avx2", None, where="valgrind's virtual CPU") == \
        "NIN_ISA=avx512vnni ran avx2: valgrind's virtual CPU lacks it"


def test_profile_output_gives_the_family_and_the_total():
    text = ("profile: 1 run(s), kernels avx2, 1 thread(s); median per layer\n"
            "  0 conv 227x227x1 -> 55x55x96: 0.5987 ms  58.6913 GMAC/s  [avx2 (int16)]\n"
            "  total: 22.2144 ms\n")
    assert bench.parse_profile(text) == ("avx2", 22.2144)
    assert bench.parse_profile("no profile here\n") == (None, None)


def test_kernel_families_are_nin_infers_list(tmp_path):
    # The families come from `nin-infer --list-kernels --json` (the engine's table), in its order.
    listed = [{"name": "amx", "supported": False, "reason": "CPU lacks amx_tile/amx_int8", "chosen": False},
              {"name": "avx2", "supported": True, "reason": None, "chosen": True},
              {"name": "generic", "supported": True, "reason": None, "chosen": False}]
    cli = tmp_path / "nin-infer"
    cli.write_text("#!/bin/sh\n[ \"$*\" = \"--list-kernels --json\" ] || exit 2\n"
                   f"echo '{json.dumps(listed)}'\n")
    cli.chmod(0o755)
    assert bench.kernel_families(cli) == listed
    assert bench.kernel_family_names(cli) == ["amx", "avx2", "generic"]
    cli.write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    with pytest.raises(RuntimeError, match="exited with 3: broken"):
        bench.kernel_families(cli)


def test_callgrind_total_reads_the_totals_line(tmp_path):
    out = tmp_path / "callgrind.out"
    out.write_text("version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 0\n"
                   "fn=main\n1 5\n\ntotals: 114560402\n")
    assert bench.callgrind_total(out) == 114560402
    out.write_text("events: Ir\nsummary: 77\n")
    assert bench.callgrind_total(out) == 77
    out.write_text("events: Ir\n")
    assert bench.callgrind_total(out) is None
