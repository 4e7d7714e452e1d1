"""docs/CONVERTING.md holds: its worked example runs as written on a small ONNX model built
here (and prints lines of the form it shows), its --arch example converts under the schema it
documents, and every refusal message it lists is what the converter says. Also
``nin-convert --check``: its figures are those of the numpy reference against the float graph."""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Dict, List

import numpy as np
import pytest

from nin_tools import float_graph as nf
from nin_tools import model_format, preprocess, reference
from nin_tools.convert import ConvertError, onnx_import
from nin_tools.convert.check import check_against_float
from nin_tools.convert.cli import main as convert_main
from nin_tools.convert.lowering import lower
from nin_tools.convert.pytorch import graph_from_state_dict
from source_builders import REPO, helper, needs_onnx, onnx, onnx_model, tiny_onnx, write_random_pngs

GUIDE = os.path.join(REPO, "docs", "CONVERTING.md")
NIN_INFER = os.path.join(REPO, ".build", "release", "nin-infer")
CLASSES = ["bag", "boot", "coat", "dress", "shirt"]


def _guide() -> str:
    with open(GUIDE, encoding="utf-8") as f:
        return f.read()


def _block_after(marker: str, text: str) -> str:
    """The fenced block that follows the line ``<!-- marker -->``."""
    rest = text.split(f"<!-- {marker} -->\n", 1)[1]
    m = re.match(r"```\w*\n(.*?)\n```", rest, re.S)
    assert m, f"no fenced block after <!-- {marker} -->"
    return m.group(1)


def _runtime():
    nin = pytest.importorskip("nin")
    try:
        nin.library_path()
    except nin.NinError as e:
        pytest.skip(f"libnin.so not built (make lib): {e}")
    return nin


def _class_tree(root, rng, per_class: int) -> None:
    for name in CLASSES:
        write_random_pngs(os.path.join(root, name), per_class, rng, 16, 16)


@needs_onnx
def test_worked_example_runs_as_written(tmp_path):
    _runtime()
    if not os.path.isfile(NIN_INFER):
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    rng = np.random.default_rng(28)
    onnx.save(tiny_onnx(rng), str(tmp_path / "my_nin.onnx"))
    _class_tree(tmp_path / "data" / "train", rng, 40)
    _class_tree(tmp_path / "data" / "held_out", rng, 8)
    os.symlink(os.path.join(REPO, "tools"), tmp_path / "tools")            # "from the checkout's root"
    os.symlink(os.path.join(REPO, ".build"), tmp_path / ".build")
    text = _guide()
    script = _block_after("worked example", text)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    # Every line the guide shows as output has the form of a printed line (numbers aside).
    shown = _block_after("worked example output", text)
    for line in shown.splitlines():
        pattern = re.sub(r"\\d\+", r"\\d+", re.sub(r"\d+(?:\.\d+)?", lambda _: r"\d+(?:\.\d+)?", re.escape(line)))
        assert any(re.fullmatch(pattern, o) for o in out), f"the guide shows {line!r}; not printed"
    check = next(o for o in out if o.startswith("check on 40 PNG images below data/held_out:"))
    assert float(re.search(r"([\d.]+)% \(", check).group(1)) >= 90.0
    assert (tmp_path / "labels.txt").read_text().split() == CLASSES
    model = model_format.read(str(tmp_path / "my_nin.nin"))
    assert model.labels == CLASSES and model.layers[0].output_max == 127   # 7-bit activations
    rows = (tmp_path / "held_out.csv").read_text().splitlines()
    assert rows[0].startswith("image,label_1,probability_1,label_2") and len(rows) == 1 + 40
    assert all(row.split(",")[1] in CLASSES for row in rows[1:])


def _state_dict_for(arch: dict, rng) -> Dict[str, np.ndarray]:
    """Random weights under the keys the documented layout gives ``arch``."""
    sd = {}
    c = arch["input"][0]
    for i, layer in enumerate(arch["layers"]):
        if layer["type"] != "nin_block":
            continue
        out, k = layer["out"], layer.get("kernel", 1)
        step = 3 if layer.get("bn") else 2
        for j in range(3):
            conv = f"network.{i}.{j * step}"
            sd[conv + ".weight"] = rng.normal(0, 0.2, (out, c if j == 0 else out) + ((k, k) if j == 0 else (1, 1)))
            sd[conv + ".bias"] = rng.normal(0, 0.1, out)
            if step == 3:
                bn = f"network.{i}.{j * step + 1}"
                sd[bn + ".weight"], sd[bn + ".bias"] = rng.uniform(0.5, 1.5, out), rng.normal(0, 0.1, out)
                sd[bn + ".running_mean"], sd[bn + ".running_var"] = rng.normal(0, 0.1, out), rng.uniform(0.5, 2, out)
        c = out
    return {key: np.asarray(v, np.float32) for key, v in sd.items()}


def test_arch_example_follows_the_schema():
    arch = json.loads(_block_after("arch example", _guide()))
    sd = _state_dict_for(arch, np.random.default_rng(3))
    graph = graph_from_state_dict(sd, arch)
    stages = lower(nf.fold(graph))
    assert [s.op for s in stages] == ["conv"] * 3 + ["maxpool"] + ["conv"] * 3 + ["avgpool"] + ["conv"] * 3 + ["gap"]
    assert nf.output_shapes(graph)[-1][0] == arch["layers"][-2]["out"]
    # ceil_mode: 28 -> 14 with ceil, where floor would give 13; then avgpool 2 -> 7
    assert [tuple(s) for s in nf.output_shapes(nf.fold(graph)) if len(s) == 3][-1] == (10, 7, 7)
    # the same weights without the arch's BatchNorm are refused with the documented message
    arch["layers"][0]["bn"] = False
    with pytest.raises(ConvertError, match=r"state_dict has no key .* \(arch expects it\)|is not used by the arch"):
        graph_from_state_dict(sd, arch)


def _documented_messages() -> List[str]:
    section = _guide().split("### The messages you may meet", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(.+?)` \|", section, re.M)


def _matches(message: str, documented: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in documented.split("…"))
    return re.search(pattern, message) is not None


def _refusals(tmp_path) -> List[str]:
    """Messages the converter really gives, one for each kind of mistake we can make here."""
    got = []

    def say(f):
        with pytest.raises(ConvertError) as info:
            f()
        got.append(str(info.value))

    rng = np.random.default_rng(5)
    sd = _state_dict_for({"input": [1, 8, 8], "layers": [{"type": "nin_block", "out": 4, "kernel": 3}]}, rng)
    arch = {"input": [1, 8, 8], "layers": [{"type": "nin_block", "out": 4, "kernel": 3}, {"type": "gap"}]}
    say(lambda: graph_from_state_dict(sd, {"layers": []}))
    say(lambda: graph_from_state_dict(sd, dict(arch, layers=[{"type": "conv"}])))
    say(lambda: graph_from_state_dict({k.replace("network.0", "network.1"): v for k, v in sd.items()}))
    say(lambda: graph_from_state_dict(sd, dict(arch, layers=[dict(arch["layers"][0], kernel=5), {"type": "gap"}])))
    say(lambda: graph_from_state_dict(dict(sd, **{"network.3.0.weight": sd["network.0.0.weight"]}), arch))
    say(lambda: graph_from_state_dict(sd, dict(arch, layers=[dict(arch["layers"][0], bn=True), {"type": "gap"}])))
    say(lambda: lower(nf.fold(graph_from_state_dict(sd, dict(arch, layers=arch["layers"][:1])))))
    from nin_tools.convert.calibration import load_calibration
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    say(lambda: load_calibration(str(tmp_path / "empty"), 10, (1, 8, 8)))
    if onnx is not None:
        say(lambda: onnx_import.graph_from_onnx(tiny_onnx(rng, extra=helper.make_node(
            "Softmax", ["p2"], ["sm"], name="sm"))))
        say(lambda: onnx_import.graph_from_onnx(tiny_onnx(rng, extra=helper.make_node(
            "Conv", ["p2", "c3.w"], ["g"], name="grouped", group=2, kernel_shape=[3, 3]))))
        w = rng.normal(0, 1, (2, 1, 3, 3)).astype(np.float32)
        say(lambda: onnx_import.graph_from_onnx(onnx_model(
            [helper.make_node("Conv", ["input", "w"], ["y"], name="dilated", dilations=[2, 2], kernel_shape=[3, 3]),
             helper.make_node("GlobalAveragePool", ["y"], ["logits"])], {"w": w}, (1, 9, 9), out_rank=4)))
        say(lambda: onnx_import.graph_from_onnx(onnx_model(
            [helper.make_node("Conv", ["input", "w"], ["logits"], name="c", kernel_shape=[3, 3])], {"w": w},
            (1, 9, 9), out_rank=4)))
    return got


def test_documented_messages_are_the_converters(tmp_path):
    documented = _documented_messages()
    assert len(documented) >= 15
    real = _refusals(tmp_path)
    for message in real:            # each mistake's message is in the guide
        assert any(_matches(message, d) for d in documented), f"not in docs/CONVERTING.md: {message}"
    sources = ""
    convert = os.path.join(REPO, "tools", "nin_tools", "convert")
    for name in sorted(os.listdir(convert)):
        if name.endswith(".py"):
            with open(os.path.join(convert, name), encoding="utf-8") as f:
                sources += re.sub(r'"\s*\n\s*f?"', "", f.read())      # implicit concatenation joined
    for d in documented:            # and each message the guide lists is said, or in the sources
        if any(_matches(m, d) for m in real):
            continue
        for part in (p.strip(" :;") for p in d.split("…")):
            assert len(part) < 6 or part in sources, f"docs/CONVERTING.md lists {d!r}; {part!r} is not said"


@needs_onnx
def test_check_figures_are_the_reference_against_the_float_graph(tmp_path, capsys):
    """--check's agreement and logit error equal what the numpy reference (bit-exact with the
    runtime) and the float forward give on the same prepared pixels; the folder names count
    as labels."""
    nin = _runtime()
    rng = np.random.default_rng(11)
    m = tiny_onnx(rng)
    onnx.save(m, str(tmp_path / "m.onnx"))
    _class_tree(tmp_path / "cal", rng, 30)
    _class_tree(tmp_path / "held", rng, 6)
    (tmp_path / "labels.txt").write_text("\n".join(CLASSES) + "\n")
    out = tmp_path / "m.nin"
    assert convert_main([str(tmp_path / "m.onnx"), "--calibrate", str(tmp_path / "cal"), "--labels",
                         str(tmp_path / "labels.txt"), "--quiet", "--check", str(tmp_path / "held"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    model = model_format.read(str(out))
    graph = nf.fold(onnx_import.graph_from_onnx(m)[0])
    paths = sorted(str(p) for p in (tmp_path / "held").rglob("*.png"))
    x = np.stack([np.asarray(preprocess.prepare(nin.load_png(p), (1, 16, 16)), np.uint8).reshape(16, 16, 1)
                  for p in paths])
    q = np.asarray(reference.run(model, x)["logits"], np.float64)
    f = np.asarray(nf.forward(graph, nf.pixels_to_float(x), keep="last"), np.float64)
    result = check_against_float(str(out), graph, model.labels, str(tmp_path / "held"))
    assert result.count == len(paths) == 30
    assert result.agree == int(np.sum(np.argmax(q, 1) == np.argmax(f, 1)))
    assert result.max_error == pytest.approx(float(np.abs(q - f).max()), rel=1e-5)
    assert result.mean_error == pytest.approx(float(np.abs(q - f).mean()), rel=1e-5)
    truth = np.repeat(np.arange(5), 6)
    assert result.accuracy == pytest.approx((np.mean(np.argmax(f, 1) == truth), np.mean(np.argmax(q, 1) == truth)))
    assert f"({result.agree} of 30)" in printed and "logit error |nin - float|: max" in printed
    # a folder without PNGs is refused, naming it
    (tmp_path / "none").mkdir()
    assert convert_main([str(tmp_path / "m.onnx"), "--calibrate", str(tmp_path / "cal"), "--quiet",
                         "--check", str(tmp_path / "none"), "-o", str(out)]) == 1
    assert "no image found" in capsys.readouterr().err
