"""Builders of bad inputs, one function per family. Each writes its files under a folder and
returns the cases: a `deepgui` command line and what must hold when it has run.

Every case that is not marked `ok` must end with exactly one sentence on stderr, a non-zero
exit status, no traceback and no generic "unexpected error"; every case must leave each file
that was there before exactly as it was (nothing lost), and must not hang or crash. Cases
marked `ok` are valid inputs an earlier version refused or misread: they must succeed.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"
IRIS_CSV = ROOT / "resources" / "datasets" / "iris.csv"


@dataclass
class Case:
    name: str
    argv: list[str]
    fragment: str = ""  # a piece of text the sentence must contain (the file, field or layer)
    ok: bool = False  # a valid input: it must succeed
    slow: bool = False  # trains for real (a few seconds): not in the quick set
    timeout: float = 60.0


FAMILIES: dict[str, Callable[[Path], list[Case]]] = {}


def family(name: str):
    def register(fn):
        FAMILIES[name] = fn
        return fn

    return register


# ----------------------------------------------------------------------------- helpers
def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def link(path: Path, target: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    return path


def nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def example(name: str = "iris_dense") -> dict:
    return json.loads((EXAMPLES / f"{name}.dgproj").read_text(encoding="utf-8"))


def dense_project(inputs: int = 4, classes: int = 3, dataset: dict | None = None) -> dict:
    """Input -> Dense(8) -> Dense(classes): one epoch of a few rows trains in a second."""
    return {
        "format": "deepgui-project",
        "version": 1,
        "graph": {
            "nodes": [
                {"id": "n1", "class_name": "InputLayer", "config": {"shape": [inputs], "name": "x"}},
                {"id": "n2", "class_name": "Dense", "config": {"units": 8, "name": "hidden",
                                                                "activation": "relu"}},
                {"id": "n3", "class_name": "Dense", "config": {"units": classes, "name": "out",
                                                                "activation": "softmax"}},
            ],
            "edges": [{"source": "n1", "target": "n2"}, {"source": "n2", "target": "n3"}],
        },
        "dataset": dataset or {},
        "training": {"epochs": 1, "batch_size": 8, "seed": 1},
    }  # fmt: skip


def image_project(channels: int = 3) -> dict:
    project = dense_project(classes=2)
    nodes = project["graph"]["nodes"]
    nodes[0]["config"]["shape"] = [8, 8, channels]
    nodes.insert(1, {"id": "n4", "class_name": "Flatten", "config": {"name": "flat"}})
    project["graph"]["edges"] = [
        {"source": "n1", "target": "n4"},
        {"source": "n4", "target": "n2"},
        {"source": "n2", "target": "n3"},
    ]
    return project


def png(path: Path, seed: int, channels: int = 3) -> Path:
    from PIL import Image

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = (8, 8, channels) if channels > 1 else (8, 8)
    Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8)).save(path)
    return path


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height pixels, with almost no pixel data after it."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1000)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
                     + chunk(b"IEND", b""))  # fmt: skip
    return path


def image_folder(root: Path, classes=("cats", "dogs"), per_class: int = 5) -> Path:
    for c, name in enumerate(classes):
        for i in range(per_class):
            png(root / name / f"{i}.png", seed=100 * c + i)
    return root


def npz_with_header(path: Path, name: str, shape: tuple, payload: bytes = b"") -> Path:
    """An .npz whose array `name` declares `shape` (float64) but holds only `payload`."""
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    text = repr(header).encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    body = b"\x93NUMPY\x01\x00" + (len(text) + pad + 1).to_bytes(2, "little")
    body += text + b" " * pad + b"\n" + payload
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}.npy", body)
    return path


def keras_zip(path: Path, config_text: str, extra: dict[str, bytes] | None = None) -> Path:
    """A .keras archive holding `config_text` as its model description (and nothing valid)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.0"}))
        archive.writestr("config.json", config_text)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def sequential_config(*layers: dict) -> str:
    inner = [{"module": "keras.layers", "class_name": "InputLayer",
              "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input"}}]  # fmt: skip
    return json.dumps(
        {
            "module": "keras",
            "class_name": "Sequential",
            "config": {"name": "m", "layers": inner + list(layers)},
            "registered_name": None,
        }
    )


def small_model(path: Path, units: int = 3) -> Path:
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, name="d")])
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def sparse(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


# ----------------------------------------------------------------------------- project files
@family("project")
def project_cases(root: Path) -> list[Case]:
    d = root / "projects"
    d.mkdir(parents=True)
    base = example()
    cases: list[Case] = []

    def mutated(name: str, change, command: str = "summary", fragment: str = "") -> None:
        data = copy.deepcopy(base)
        change(data)
        path = write_json(d / f"{name}.dgproj", data)
        cases.append(Case(name, [command, str(path)], fragment or path.name))

    def raw(name: str, content: bytes, fragment: str = "") -> None:
        path = d / f"{name}.dgproj"
        path.write_bytes(content)
        cases.append(Case(name, ["summary", str(path)], fragment or path.name))

    nodes = lambda data: data["graph"]["nodes"]  # noqa: E731

    raw("not_json", b"{not json")
    raw("empty", b"")
    raw("binary", bytes(range(256)) * 4)
    raw("latin1", b'{"format": "deepgui-project", "note": "caf\xe9"}')
    raw("top_level_list", b"[]")
    raw("bom_then_garbage", b"\xef\xbb\xbf{]")
    raw("nan_constant", b'{"format": "deepgui-project", "version": NaN}')
    raw("deep_900", json.dumps({"format": "deepgui-project", "version": 1,
                                "graph": nested(900)}).encode())  # fmt: skip
    raw("deep_5000", b"[" * 5000 + b"]" * 5000)
    mutated("format_wrong", lambda p: p.update(format="keras"))
    mutated("version_string", lambda p: p.update(version="1"))
    mutated("version_future", lambda p: p.update(version=99))
    mutated("version_zero", lambda p: p.update(version=0))
    mutated("version_bool", lambda p: p.update(version=True))
    mutated("graph_missing", lambda p: p.pop("graph"))
    mutated("nodes_not_list", lambda p: p["graph"].update(nodes={"a": 1}))
    mutated("node_not_object", lambda p: nodes(p).append(7))
    mutated("node_without_id", lambda p: nodes(p)[1].pop("id"))
    mutated("class_is_code", lambda p: nodes(p)[1].update(class_name="os.system"))
    mutated("class_unknown", lambda p: nodes(p)[1].update(class_name="NoSuchLayer"),
            fragment="dense")  # fmt: skip
    mutated(
        "lambda_layer",
        lambda p: nodes(p)[1].update(
            class_name="Lambda",
            config={
                "name": "dense",
                "function": {"class_name": "__lambda__", "config": {"code": "print(1)"}},
            },
        ),  # fmt: skip
        fragment="dense",
    )
    mutated("config_list", lambda p: nodes(p)[1].update(config=[1, 2]))
    mutated("name_number", lambda p: nodes(p)[1]["config"].update(name=12))
    mutated("name_emoji", lambda p: nodes(p)[1]["config"].update(name="d\U0001f600"))
    mutated("name_nul", lambda p: nodes(p)[1]["config"].update(name="d\x00x"))
    mutated("name_empty", lambda p: nodes(p)[1]["config"].update(name=""))
    mutated("name_long", lambda p: nodes(p)[1]["config"].update(name="n" * 5000))
    mutated("name_slash", lambda p: nodes(p)[1]["config"].update(name="a/b"))
    mutated("name_twice", lambda p: nodes(p)[2]["config"].update(name="dense"))
    mutated("edge_to_nowhere", lambda p: p["graph"]["edges"].append({"source": "n1",
                                                                      "target": "zz"}))  # fmt: skip
    mutated("edge_port_negative", lambda p: p["graph"]["edges"][0].update(target_port=-1))
    mutated("cycle", lambda p: p["graph"]["edges"].append({"source": "n4", "target": "n2",
                                                            "target_port": 1}))  # fmt: skip
    mutated("positions_bad", lambda p: p["layout"].update(positions={"n1": ["a", 1]}))
    mutated("dataset_list", lambda p: p.update(dataset=[1]))
    mutated("training_string", lambda p: p.update(training="fast"))
    mutated("id_with_slash", lambda p: p.update(id="../x"))
    mutated("units_huge", lambda p: nodes(p)[1]["config"].update(units=10**12), fragment="dense")
    mutated("units_text", lambda p: nodes(p)[1]["config"].update(units="many"), fragment="dense")
    mutated("units_nested", lambda p: nodes(p)[1]["config"].update(units=nested(40)),
            fragment="dense")  # fmt: skip
    mutated("units_infinite", lambda p: nodes(p)[1]["config"].update(units=1e400),
            fragment="Infinity")  # fmt: skip
    text = json.dumps(base).replace('"units": 16', '"units": 1e400', 1)
    raw("units_overflowing_number", text.encode(), fragment="dense")
    mutated("shape_text", lambda p: nodes(p)[0]["config"].update(shape="abc"),
            fragment="measurements")  # fmt: skip
    mutated("shape_negative", lambda p: nodes(p)[0]["config"].update(shape=[-4]),
            fragment="measurements")  # fmt: skip
    mutated("shape_enormous", lambda p: nodes(p)[0]["config"].update(shape=[10**6, 10**6]),
            fragment="measurements")  # fmt: skip
    mutated(
        "batch_shape_text",
        lambda p: nodes(p)[0].update(config={"batch_shape": [None, "x"], "name": "measurements"}),
        fragment="measurements",
    )

    def vocabulary(value: str):
        def change(p):
            nodes(p).insert(1, {"id": "t1", "class_name": "TextVectorization",
                                "config": {"name": "tv", "vocabulary": value, "max_tokens": 10}})  # fmt: skip

        return change

    mutated("vocabulary_outside", vocabulary("../../../../../etc/passwd"), fragment="tv")
    mutated("vocabulary_absolute", vocabulary("/etc/hostname"), fragment="tv")
    mutated("vocabulary_device", vocabulary("/dev/zero"), fragment="tv")
    fifo(d / "vocab_pipe.txt")
    mutated("vocabulary_pipe", vocabulary("vocab_pipe.txt"), fragment="vocab_pipe.txt")
    link(d / "vocab_link.txt", "/etc/hostname")
    mutated("vocabulary_link_outside", vocabulary("vocab_link.txt"), fragment="tv")
    mutated(
        "bidirectional_vocabulary",
        lambda p: nodes(p).insert(1, {"id": "b1", "class_name": "Bidirectional", "config": {
            "name": "bi", "layer": {"class_name": "LSTM", "config": {"units": 2,
                                                                     "vocabulary": "/etc/passwd"}}}}),
        fragment="bi",
    )  # fmt: skip

    (d / "a_folder.dgproj").mkdir()
    cases.append(Case("project_is_folder", ["summary", str(d / "a_folder.dgproj")], "a_folder"))
    cases.append(Case("project_is_pipe", ["summary", str(fifo(d / "pipe.dgproj"))], "pipe"))
    cases.append(Case("project_is_device",
                      ["summary", str(link(d / "zero.dgproj", "/dev/zero"))], "zero"))  # fmt: skip
    cases.append(Case("project_is_random_device",
                      ["summary", str(link(d / "random.dgproj", "/dev/urandom"))], "random"))  # fmt: skip
    cases.append(Case("project_dangling_link",
                      ["summary", str(link(d / "gone.dgproj", str(d / "nowhere")))], "gone"))  # fmt: skip
    cases.append(Case("project_huge", ["summary", str(sparse(d / "huge.dgproj", 200 << 20))],
                      "huge"))  # fmt: skip
    cases.append(Case("project_missing", ["summary", str(d / "missing.dgproj")], "missing"))
    cases.append(Case("app_on_missing_file", [str(d / "missing2.dgproj")], "missing2"))

    # train and export reach the same loader, and their own checks of the project.
    no_data = write_json(d / "no_data.dgproj", dense_project())
    cases.append(Case("train_without_dataset", ["train", str(no_data)], "dataset"))
    bad_source = write_json(d / "bad_source.dgproj", dense_project(dataset={"source": "ftp"}))
    cases.append(Case("train_unknown_source", ["train", str(bad_source)], "source"))
    for name, target in (("pipe", fifo(d / "data_pipe.csv")),
                         ("device", link(d / "data_zero.csv", "/dev/zero")),
                         ("random", link(d / "data_random.npz", "/dev/urandom"))):  # fmt: skip
        spec = {"source": "npz" if target.suffix == ".npz" else "csv", "path": target.name,
                "target": "species"}  # fmt: skip
        path = write_json(d / f"data_{name}.dgproj", dense_project(dataset=spec))
        cases.append(Case(f"train_dataset_is_{name}", ["train", str(path), "--out",
                                                       str(root / "runs" / name)], target.name))  # fmt: skip
    good = write_json(d / "good.dgproj", dense_project(dataset={"source": "builtin",
                                                                "name": "iris"}))  # fmt: skip
    cases.append(Case("train_epochs_zero", ["train", str(good), "--epochs", "0"], "--epochs"))
    cases.append(Case("train_batch_negative", ["train", str(good), "--batch-size", "-3"],
                      "--batch-size"))  # fmt: skip
    cases.append(Case("train_target_not_csv", ["train", str(good), "--data", str(d / "huge.dgproj"),
                                                "--target", "x"], "huge"))  # fmt: skip
    cases.append(Case("export_emoji_name", ["export", str(d / "name_emoji.dgproj"), "--format",
                                            "keras", "-o", str(root / "out.keras")]))  # fmt: skip
    cases.append(Case("export_vocabulary_outside",
                      ["export", str(d / "vocabulary_outside.dgproj"), "--format", "keras", "-o",
                       str(root / "out2.keras")], "tv"))  # fmt: skip

    # Valid: a vocabulary file inside the project's folder is read into the project.
    (d / "words.txt").write_text("red\ngreen\nblue\n", encoding="utf-8")
    text_project = {
        "format": "deepgui-project", "version": 1,
        "graph": {"nodes": [
            {"id": "n1", "class_name": "InputLayer",
             "config": {"shape": [1], "dtype": "string", "name": "text"}},
            {"id": "n2", "class_name": "TextVectorization",
             "config": {"name": "tv", "vocabulary": "words.txt", "output_sequence_length": 3}},
            {"id": "n3", "class_name": "Embedding", "config": {"name": "emb", "input_dim": 6,
                                                               "output_dim": 2}},
            {"id": "n4", "class_name": "Flatten", "config": {"name": "flat"}},
            {"id": "n5", "class_name": "Dense", "config": {"name": "out", "units": 2}},
        ], "edges": [{"source": f"n{i}", "target": f"n{i + 1}"} for i in range(1, 5)]},
    }  # fmt: skip
    ok_path = write_json(d / "vocabulary_inside.dgproj", text_project)
    cases.append(Case("vocabulary_inside_folder", ["summary", str(ok_path)], ok=True))
    return cases


# ----------------------------------------------------------------------------- Keras files
@family("keras")
def keras_cases(root: Path) -> list[Case]:
    d = root / "models"
    d.mkdir(parents=True)
    out = root / "out"
    out.mkdir()
    cases: list[Case] = []

    def bad(name: str, path: Path, fragment: str = "") -> None:
        cases.append(Case(f"summary_{name}", ["summary", str(path)], fragment or path.name))
        cases.append(Case(f"import_{name}", ["import", str(path), "-o",
                                             str(out / f"{name}.dgproj")], fragment or path.name))  # fmt: skip

    rng = np.random.default_rng(0)
    (d / "garbage.keras").write_bytes(rng.bytes(4096))
    bad("garbage", d / "garbage.keras")
    (d / "empty.keras").write_bytes(b"")
    bad("empty", d / "empty.keras")
    with zipfile.ZipFile(d / "no_config.keras", "w") as archive:
        archive.writestr("hello.txt", "hi")
    bad("zip_without_config", d / "no_config.keras")
    bad("config_not_json", keras_zip(d / "config_not_json.keras", "{nope"))
    bad("config_deep", keras_zip(d / "config_deep.keras", json.dumps(nested(900))))
    bad("config_deep_5000", keras_zip(d / "config_deep5000.keras", "[" * 5000 + "]" * 5000))
    lambda_layer = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
                    "config": {"name": "code", "function": {"class_name": "__lambda__", "config": {
                        "code": "4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMEAAAAfABTAKkBTqkAqQHaAXhyAgAA"
                                "AHICAAAA+gE8bGFtYmRhPqwBAAAAcwIAAAAEAA==",
                        "defaults": None, "closure": None}}}}  # fmt: skip
    bad("lambda_layer", keras_zip(d / "lambda.keras", sequential_config(lambda_layer)))
    custom = {"module": "evil.layers", "class_name": "Backdoor", "registered_name": "evil>Door",
              "config": {"name": "door"}}  # fmt: skip
    bad("custom_class", keras_zip(d / "custom.keras", sequential_config(custom)))
    vocab = {"module": "keras.layers", "class_name": "StringLookup", "registered_name": None,
             "config": {"name": "lookup", "vocabulary": "/etc/passwd"}}  # fmt: skip
    bad("vocabulary_path", keras_zip(d / "vocab.keras", sequential_config(vocab)))
    (d / "garbage.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + rng.bytes(2000))
    bad("h5_garbage", d / "garbage.h5")
    (d / "folder.keras").mkdir()
    bad("folder", d / "folder.keras")
    bad("pipe", fifo(d / "pipe.keras"))
    bad("device", link(d / "zero.keras", "/dev/zero"))
    bad("dangling_link", link(d / "gone.keras", str(d / "nowhere.keras")))
    bad("huge", sparse(d / "huge.keras", 9 << 30))
    valid = small_model(d / "m.keras")
    data = valid.read_bytes()
    (d / "truncated.keras").write_bytes(data[: len(data) // 2])
    bad("truncated", d / "truncated.keras")
    cases.append(Case("import_not_keras_suffix", ["import", str(IRIS_CSV), "-o",
                                                  str(out / "x.dgproj")], "iris.csv"))  # fmt: skip

    # Where the import may write: nothing the user has is replaced.
    user_project = write_json(out / "mine.dgproj", example())
    cases.append(Case("import_onto_project", ["import", str(valid), "-o", str(user_project)],
                      "mine.dgproj"))  # fmt: skip
    (out / "theirs.weights.h5").write_bytes(b"the user's own weights")
    cases.append(Case("import_onto_weights", ["import", str(valid), "-o",
                                              str(out / "theirs.dgproj")], "theirs.weights.h5"))  # fmt: skip
    cases.append(Case("import_force_onto_foreign_weights",
                      ["import", str(valid), "-o", str(out / "theirs.dgproj"), "--force"],
                      "theirs.weights.h5"))  # fmt: skip
    (out / "notes.dgproj").write_text("my notes, not a project")
    cases.append(Case("import_force_onto_foreign_project",
                      ["import", str(valid), "-o", str(out / "notes.dgproj"), "--force"],
                      "notes.dgproj"))  # fmt: skip
    (out / "dir.dgproj").mkdir()
    cases.append(Case("import_onto_folder", ["import", str(valid), "-o", str(out / "dir.dgproj")],
                      "dir.dgproj"))  # fmt: skip
    (out / "plain.txt").write_text("a file")
    cases.append(Case("import_under_a_file", ["import", str(valid), "-o",
                                              str(out / "plain.txt" / "x.dgproj")], "plain.txt"))  # fmt: skip
    cases.append(Case("import_wrong_suffix", ["import", str(valid), "-o", str(out / "x.json")],
                      "x.json"))  # fmt: skip
    cases.append(Case("export_keras_model_onto_user_file",
                      ["export", str(valid), "--format", "keras", "-o", str(user_project)],
                      "mine.dgproj"))  # fmt: skip
    return cases


# ----------------------------------------------------------------------------- CSV files
@family("csv")
def csv_cases(root: Path) -> list[Case]:
    d = root / "csv"
    d.mkdir(parents=True)
    project = write_json(root / "p.dgproj", dense_project())
    lines = IRIS_CSV.read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    cases: list[Case] = []

    def train(name: str, path: Path, fragment: str = "", target: str = "species", **kw) -> None:
        argv = ["train", str(project), "--data", str(path), "--out", str(root / "runs" / name)]
        if target:
            argv += ["--target", target]
        cases.append(Case(name, argv, fragment or path.name, **kw))

    def text(name: str, content: str, **kw) -> Path:
        path = d / f"{name}.csv"
        path.write_text(content, encoding="utf-8")
        train(name, path, **kw)
        return path

    rows = list(body)
    rows[7] = rows[7].replace("5.0", "five", 1)
    text("text_in_numeric_column", "\n".join([header, *rows]) + "\n", fragment="row")
    text("target_not_there", "\n".join(lines) + "\n", target="colour", fragment="colour")
    text("empty", "")
    text("header_only", header + "\n")
    text("ragged_row", "\n".join([header, *body[:5], "1,2,3", *body[5:]]) + "\n", fragment="row")
    text("header_name_missing", "a,,c,d,species\n1,2,3,4,x\n5,6,7,8,y\n")
    text("header_repeated", "a,a,c,d,species\n1,2,3,4,x\n5,6,7,8,y\n")
    text("target_all_missing", "\n".join([header] + [",".join(r.split(",")[:4]) + ","
                                                     for r in body]) + "\n")  # fmt: skip
    overflow = [header] + [",".join(["1e307", *r.split(",")[1:]]) for r in body[:40]] + body[40:]
    text("values_overflow", "\n".join(overflow) + "\n", fragment="sepal_length")
    quoted = [header] + ['"{}",{}'.format(r.split(",")[0].replace(".", ","),
                                          ",".join(r.split(",")[1:])) for r in body]  # fmt: skip
    text("decimal_commas_in_comma_file", "\n".join(quoted) + "\n", fragment="sepal_length")
    semicolons = [header.replace(",", ";")] + [r.replace(",", ";").replace(".", ",") for r in body]
    text("decimal_commas_semicolons", "\n".join(semicolons) + "\n", ok=True, slow=True)
    (d / "latin1.csv").write_bytes(
        (header + "\n" + "\n".join(body[:10]) + "\n1,2,3,4,caf\xe9\n").encode("latin1")
    )
    train("not_utf8", d / "latin1.csv")
    (d / "binary.csv").write_bytes(np.random.default_rng(1).bytes(3000))
    train("binary_bytes", d / "binary.csv")
    train("pipe", fifo(d / "pipe.csv"))
    train("device_zero", link(d / "zero.csv", "/dev/zero"))
    train("device_random", link(d / "random.csv", "/dev/urandom"))
    train("dangling_link", link(d / "gone.csv", str(d / "nowhere.csv")))
    from deepgui.core.data.table import max_bytes

    train("bigger_than_memory", sparse(d / "huge.csv", max_bytes() + 1))
    (d / "folder.csv").mkdir()
    train("folder_named_csv", d / "folder.csv")
    train("unknown_kind", sparse(d / "data.xyz", 10), target="")
    return cases


# ----------------------------------------------------------------------------- image folders
@family("images")
def image_cases(root: Path) -> list[Case]:
    d = root / "images"
    d.mkdir(parents=True)
    rgb = write_json(root / "rgb.dgproj", image_project(3))
    gray = write_json(root / "gray.dgproj", image_project(1))
    cases: list[Case] = []

    def train(name: str, folder: Path, fragment: str = "", project: Path = rgb, **kw) -> None:
        argv = ["train", str(project), "--data", str(folder), "--out", str(root / "runs" / name)]
        cases.append(Case(name, argv, fragment, **kw))

    f = image_folder(d / "corrupt")
    (f / "cats" / "9.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    train("corrupt_png", f, "9.png")
    f = image_folder(d / "empty_file")
    (f / "dogs" / "9.png").write_bytes(b"")
    train("empty_png", f, "9.png")
    f = image_folder(d / "text_as_jpg")
    (f / "dogs" / "9.jpg").write_text("not an image")
    train("text_named_jpg", f, "9.jpg")
    f = image_folder(d / "truncated")
    data = (f / "cats" / "0.png").read_bytes()
    (f / "cats" / "8.png").write_bytes(data[: len(data) // 2])
    train("truncated_png", f, "8.png")
    f = image_folder(d / "bomb")
    png_claiming(f / "dogs" / "9.png", 50_000, 50_000)
    train("decompression_bomb", f, "9.png")
    train("one_class", image_folder(d / "one", classes=("only",)), "one class")
    loose = d / "loose"
    for i in range(4):
        png(loose / f"{i}.png", i)
    train("images_not_in_class_folders", loose, "subfolder")
    (d / "texts" / "a").mkdir(parents=True)
    (d / "texts" / "a" / "x.txt").write_text("x")
    train("no_images", d / "texts", "texts")
    train("data_is_an_image", png(d / "single.png", 1), "single.png")
    # Valid folders an earlier version refused, and files no reader may touch.
    f = image_folder(d / "pipes")
    fifo(f / "cats" / "7.png")
    link(f / "dogs" / "7.png", "/dev/zero")
    train("pipe_and_device_named_png", f, ok=True, slow=True)
    train("odd_class_names", image_folder(d / "odd", classes=('it\'s "odd".v1', ".hidden")),
          ok=True, slow=True)  # fmt: skip
    from PIL import Image

    f = image_folder(d / "gif")
    rng = np.random.default_rng(3)
    frames = [Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)) for _ in range(3)]
    frames[0].save(f / "cats" / "anim.gif", save_all=True, append_images=frames[1:])
    train("animated_gif_grayscale", f, project=gray, ok=True, slow=True)
    return cases


# ----------------------------------------------------------------------------- .npz files
@family("npz")
def npz_cases(root: Path) -> list[Case]:
    d = root / "npz"
    d.mkdir(parents=True)
    project = write_json(root / "p.dgproj", dense_project())
    cases: list[Case] = []

    def train(name: str, path: Path, fragment: str = "") -> None:
        argv = ["train", str(project), "--data", str(path), "--out", str(root / "runs" / name)]
        cases.append(Case(name, argv, fragment or path.name))

    x = np.random.default_rng(0).normal(size=(30, 4)).astype("float32")
    y = np.arange(30) % 3
    (d / "not_zip.npz").write_bytes(b"hello, not a zip")
    train("not_a_zip", d / "not_zip.npz")
    (d / "empty.npz").write_bytes(b"")
    train("empty", d / "empty.npz")
    with zipfile.ZipFile(d / "no_arrays.npz", "w") as archive:
        archive.writestr("readme.txt", "nothing")
    train("no_arrays", d / "no_arrays.npz")
    np.savez(d / "objects.npz", x=np.array([{"a": 1}] * 30, dtype=object), y=y)
    train("python_objects", d / "objects.npz")
    train("header_claims_1e12", npz_with_header(d / "claims.npz", "x", (10**12,)), "claims")
    train("header_claims_negative", npz_with_header(d / "negative.npz", "x", (-5, 3)))
    np.savez(d / "mismatch.npz", x=x, y=y[:10])
    train("x_and_y_lengths_differ", d / "mismatch.npz")
    bad_x = x.copy()
    bad_x[3, 1] = np.nan
    np.savez(d / "nan.npz", x=bad_x, y=y)
    train("nan_in_x", d / "nan.npz")
    np.savez(d / "only_x.npz", x=x)
    train("missing_y", d / "only_x.npz")
    np.savez(d / "scalar.npz", x=np.float32(3), y=y)
    train("scalar_x", d / "scalar.npz")
    np.savez(d / "strings.npz", x=np.array([["a"] * 4] * 30), y=y)
    train("string_x", d / "strings.npz")
    np.savez(d / "shape.npz", x=np.zeros((30, 7), "float32"), y=y)
    train("shape_does_not_fit_model", d / "shape.npz", "7")
    good = d / "good.npz"
    np.savez(good, x=x, y=y)
    data = good.read_bytes()
    (d / "truncated.npz").write_bytes(data[: len(data) // 2])
    train("truncated", d / "truncated.npz")
    train("pipe", fifo(d / "pipe.npz"))
    train("device", link(d / "zero.npz", "/dev/zero"))
    return cases


# ----------------------------------------------------------------------------- run folders
@family("runs")
def run_cases(root: Path) -> list[Case]:
    """Needs a finished run: `make_run` (the runner trains it once, a second or two)."""
    from deepgui.cli import main

    project = write_json(root / "p.dgproj", dense_project(dataset={"source": "builtin",
                                                                   "name": "iris"}))  # fmt: skip
    run = root / "p.runs" / "done"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["train", str(project), "--out", str(run)]) == 0
    cases: list[Case] = []

    def add(name: str, argv: list, fragment: str = "") -> None:
        cases.append(Case(name, [str(a) for a in argv], fragment))

    user = root / "mine"
    user.mkdir()
    shutil.copy(project, user / "project.dgproj")
    add("out_holds_users_project", ["train", project, "--out", user], "project.dgproj")
    add("out_is_finished_run", ["train", project, "--out", run], "finished")
    (root / "afile").write_text("x")
    add("out_is_a_file", ["train", project, "--out", root / "afile"], "afile")
    busy = root / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    add("out_not_empty", ["train", project, "--out", busy], "busy")

    def killed(name: str, state=None, checkpoint: bytes | None = None) -> Path:
        """A run killed part-way: a project copy and a checkpoint, no metrics."""
        folder = root / "killed" / name
        (folder / "checkpoints").mkdir(parents=True)
        shutil.copy(run / "project.dgproj", folder / "project.dgproj")
        (folder / "checkpoints" / "epoch_0001.npz").write_bytes(
            checkpoint if checkpoint is not None else (run / "samples.npz").read_bytes()
        )
        if isinstance(state, bytes):
            (folder / "checkpoints" / "state.json").write_bytes(state)
        elif state == "pipe":
            fifo(folder / "checkpoints" / "state.json")
        else:
            write_json(folder / "checkpoints" / "state.json", state)
        return folder

    good_state = {"epochs_done": 1, "history": [{"epoch": 1, "loss": 1.0}], "model":
                  "epoch_0001.npz"}  # fmt: skip
    for name, state in (
        ("state_not_json", b"{nope"),
        ("state_a_list", [1, 2]),
        ("state_epochs_text", {**good_state, "epochs_done": "one"}),
        ("state_model_escapes", {**good_state, "model": "../../../etc/passwd"}),
        ("state_model_missing", {**good_state, "model": "epoch_0009.npz"}),
        ("state_history_not_list", {**good_state, "history": "long"}),
        ("state_deep", nested(900)),
        ("state_pipe", "pipe"),
    ):
        add(f"resume_{name}", ["train", project, "--out", killed(name, state)], "state.json")
    add(
        "resume_checkpoint_garbage",
        ["train", project, "--out", killed("npz_garbage", good_state, b"garbage")],
        "epoch_0001",
    )
    add("resume_checkpoint_claims_1e12",
        ["train", project, "--out", killed("npz_claims", good_state,
                                           npz_with_header(root / "c.npz", "w0",
                                                           (10**12,)).read_bytes())],
        "epoch_0001")  # fmt: skip

    out = root / "exports"
    out.mkdir()
    (out / "user.keras").write_bytes(b"the user's own file")
    add("export_onto_user_file", ["export", run, "--format", "keras", "-o", out / "user.keras"],
        "user.keras")  # fmt: skip
    add("export_force_onto_user_file", ["export", run, "--format", "keras", "-o",
                                        out / "user.keras", "--force"], "user.keras")  # fmt: skip
    folder = out / "saved"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"photo")
    add(
        "export_savedmodel_into_user_folder",
        ["export", run, "--format", "savedmodel", "-o", folder],
        "saved",
    )
    add(
        "export_savedmodel_force_into_user_folder",
        ["export", run, "--format", "savedmodel", "-o", folder, "--force"],
        "saved",
    )
    (out / "script.weights.h5").write_bytes(b"weights the user keeps")
    add("export_python_onto_weights", ["export", run, "--format", "python", "-o",
                                       out / "script.py"], "script.weights.h5")  # fmt: skip
    (out / "m.keras.signature.json").write_text("{}")
    add("export_onto_signature", ["export", run, "--format", "keras", "-o", out / "m.keras"],
        "m.keras.signature.json")  # fmt: skip
    no_model = root / "no_model"
    shutil.copytree(run, no_model)
    (no_model / "model.keras").unlink()
    add("export_run_without_model", ["export", no_model, "--format", "keras", "-o",
                                     out / "a.keras"], "no_model")  # fmt: skip
    damaged = root / "damaged"
    shutil.copytree(run, damaged)
    (damaged / "model.keras").write_bytes(b"PK\x03\x04 not really")
    add("export_damaged_model", ["export", damaged, "--format", "keras", "-o", out / "b.keras"],
        "model.keras")  # fmt: skip
    samples = root / "samples"
    shutil.copytree(run, samples)
    npz_with_header(samples / "samples.npz", "x:", (10**12,))
    add("export_samples_claim_1e12", ["export", samples, "--format", "keras", "-o",
                                      out / "c.keras"], "samples.npz")  # fmt: skip
    (out / "pred.csv").write_text("my spreadsheet")
    add("predict_onto_user_file", ["predict", run, "--data", IRIS_CSV, "-o", out / "pred.csv"],
        "pred.csv")  # fmt: skip
    add("predict_force_onto_user_file", ["predict", run, "--data", IRIS_CSV, "-o",
                                         out / "pred.csv", "--force"], "pred.csv")  # fmt: skip
    add("predict_into_folder", ["predict", run, "--data", IRIS_CSV, "-o", out], "exports")
    add("predict_data_pipe", ["predict", run, "--data", fifo(root / "rows.csv")], "rows.csv")
    add("predict_data_device", ["predict", run, "--data", link(root / "rows.npz", "/dev/zero")],
        "rows.npz")  # fmt: skip
    add("predict_damaged_model", ["predict", damaged, "--data", IRIS_CSV], "model.keras")
    return cases
