"""The program a project becomes: one Python file that stands alone (Keras and NumPy, no
deepgui). It is two parts::

    deepgui/script_runtime.py, copied byte for byte: reading, splitting and preprocessing the
        data as deepgui does, training helpers, predicting and the command line
    the project, generated here: its constants (data set, training settings, what a run's
        preprocessing learned), the network as Keras code (codegen_network.py) and its training

and runs as::

    python NAME.py                              the network, and whether it is trained
    python NAME.py predict DATA [-o OUT.csv]    predict with the weights beside the script
    python NAME.py train [DATA] [--epochs N]    train from scratch; writes the weights

The training is the project's: its optimizer with its options and learning-rate schedule (a
Keras schedule as its constructor call), its loss (a serialized Keras loss as the constructor
call that makes it), and with fine-tuning on, keras.io's two phases as
training/fine_tuning.py runs them (the backbone frozen, then its top layers unfrozen with
BatchNormalization kept frozen, compiled again at the lower learning rate).

Exported from a training run, the run's constants (class names, the preprocessing's medians,
scales and vocabularies) are written into the script and the run's weights beside it, so the
model the code builds is the trained one. Exported from a project, ``train`` learns both.
"""

from __future__ import annotations

import json
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any

from deepgui.core.codegen_network import _flat, _literal, _plain, _Renderer, _wrap, network_function
from deepgui.core.data.keras_sets import KERAS_SETS
from deepgui.core.data.preprocessing import model_scales_inputs
from deepgui.core.data.shipped import BUILTIN
from deepgui.core.data.spec import normalize
from deepgui.core.errors import DatasetError
from deepgui.core.keras_layers import input_shape_of
from deepgui.core.paths import datasets_dir
from deepgui.core.training.config import (
    KERAS_SCHEDULE,
    OPTIMIZER_CLASSES,
    SPARSE_TOP_K,
    TOP_K,
    TrainingConfig,
    is_serialized,
)

LINE = 100
RUNTIME = "script_runtime.py"  # in the deepgui package; the installer bundles it as data


def runtime_source() -> str:
    """The text of deepgui/script_runtime.py, which every program starts with, as it is."""
    return resources.files("deepgui").joinpath(RUNTIME).read_text(encoding="utf-8")


def _rule(title: str) -> str:
    return "# " + "=" * 30 + f" {title} " + "=" * 30


def program(
    graph,
    dataset: dict,
    training: dict,
    name: str,
    base_dir: Path | None,
    trained: dict | None,
    stem: str,
) -> str:
    """The whole program for `graph` with the project's `dataset` and `training` settings:
    the runtime, then the project's part. `trained` (a run's signature: task, classes,
    preprocessing) fills in the constants that go with the weights the export writes beside
    it as ``STEM.weights.h5``."""
    cfg = TrainingConfig.from_dict(training)
    spec, family, reason, extra = _script_dataset(dataset, graph)
    pre = dict((trained or {}).get("preprocessing") or {}) or None
    if pre is not None:
        pre.pop("format", None)
        pre.pop("version", None)
    readers = _readers(family, pre, spec)
    several = isinstance(dataset.get("target"), list) and len(dataset["target"]) > 1
    standardize = not model_scales_inputs(graph)
    lines = [
        _rule("The project"),
        *_header(name, stem, trained),
        "",
        *_constants(spec, trained, pre, base_dir, standardize, extra, readers),
        "",
        "",
        *network_function(graph, name),
        "",
        "",
        *_train_function(cfg, graph, several),
        "",
        "",
        *_project(extra, reason if family == "none" else ""),
    ]
    return runtime_source() + "\n\n" + "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- the pieces
def _header(name: str, stem: str, trained: dict | None) -> list[str]:
    state = (
        f"The trained weights are in {stem}.weights.h5 beside this file; `train` replaces them "
        "(and writes the constants its preprocessing learned, which `predict` then uses "
        "instead of those below)."
        if trained
        else f"`train` writes the trained weights to {stem}.weights.h5 beside this file."
    )
    intro = (
        f"The Keras model {_quote(name)}, written out by deepgui: its data, its network and "
        f"its training. {state}"
    )
    return ["# " + line for line in textwrap.wrap(intro, LINE - 2)]


def _constants(
    spec: dict,
    trained: dict | None,
    pre: dict | None,
    base_dir: Path | None,
    standardize: bool,
    extra: dict[str, Any],
    readers: set[str],
) -> list[str]:
    base = (
        f"Path({_s(str(Path(base_dir).resolve()))})"
        if base_dir is not None
        else "Path(__file__).resolve().parent"
    )
    lines = [
        "# What the model predicts, the class names in output order, and its raw inputs with the",
        "# constants its preprocessing learned on the training split: a numeric column's missing",
        "# values become `fill`, then x * scale + offset; a category is looked up in `vocabulary`",
        "# (0: unseen), one-hot up to MAX_ONE_HOT categories; a text's words likewise.",
    ]
    if trained:
        lines.append("# From the training run this script was exported from.")
        lines += _assign("TASK", trained.get("task"))
        lines += _assign("CLASSES", list(trained.get("classes") or []))
        lines += _assign("PREPROCESSING", pre)
    else:
        lines.append("# Not known until the model is trained (`train` finds them in the data).")
        lines += ["TASK = None", "CLASSES = []", "PREPROCESSING = None"]
    lines.append("# A model with several outputs: each one's name, task and classes, in its order.")
    lines += _assign("OUTPUTS", list((trained or {}).get("outputs") or []))
    lines += [
        "",
        "# The project's data: where it is and how it is split (a seed gives the same split).",
    ]
    lines += _assign("DATASET", spec)
    lines.append("# Relative paths in DATASET are read from the project's folder.")
    lines.append(f"BASE = {base}")
    lines.append(
        "# False when the network scales its inputs itself (Rescaling or Normalization first)."
    )
    lines.append(f"STANDARDIZE = {standardize}")
    for key, value in extra.items():
        lines += [_EXTRA_COMMENTS[key], *_assign(key, value)]
    lines.append("# What `predict` reads: see READS above.")
    lines += _assign("READERS", tuple(key for key in _READER_ORDER if key in readers))
    return lines


_READER_ORDER = ("table", "windows", "images", "npz")
# Project's arguments from the constants above, and from `extra` (_script_dataset).
_PROJECT_ARGUMENTS = {
    "script": "__file__",
    "network": "build_network",
    "train": "train",
    "dataset": "DATASET",
    "base": "BASE",
    "standardize": "STANDARDIZE",
    "task": "TASK",
    "classes": "CLASSES",
    "preprocessing": "PREPROCESSING",
    "outputs": "OUTPUTS",
    "readers": "READERS",
}
_EXTRA_ARGUMENTS = {"ARRAY_SCALE": "array_scale", "KERAS_CLASSES": "keras_classes"}
_EXTRA_COMMENTS = {
    "ARRAY_SCALE": "# The factor the arrays are scaled by (None: as they are).",
    "KERAS_CLASSES": "# The Keras data set's class names, in label order.",
}


def _project(extra: dict[str, Any], unreadable: str) -> list[str]:
    """``PROJECT = Project(...)`` from the constants and functions above, the commands as
    functions, and the command line when the file is run."""
    arguments = dict(_PROJECT_ARGUMENTS)
    arguments |= {_EXTRA_ARGUMENTS[key]: key for key in extra}
    lines = ["PROJECT = Project("]
    lines += [f"    {key}={value}," for key, value in arguments.items()]
    if unreadable:
        lines += _assign_in("unreadable", unreadable, "    ", ",")
    return [
        *lines,
        ")",
        "# The commands as functions, for Python: load_data(), train(), predict(DATA), main(ARGS).",
        "load_data, predict, main = PROJECT.load_data, PROJECT.predict, PROJECT.main",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]


def _assign(name: str, value: Any) -> list[str]:
    return f"{name} = {_literal(value, 0, len(name) + 3)}".splitlines()


def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _script_dataset(dataset: dict, graph) -> tuple[dict, str, str, dict[str, Any]]:
    """(the spec the script reads, its loader family, why it cannot load (family "none"),
    extra constants): built-in samples become the shipped file by absolute path, an image
    folder's size and colour mode default to the network's Input, as deepgui loads them."""
    try:
        spec = normalize(dataset)
    except DatasetError as exc:
        return dict(dataset or {}), "none", str(exc), {}
    source = spec["source"]
    standardize = not model_scales_inputs(graph)
    if source == "builtin":
        if spec.get("name") not in BUILTIN:
            shown = ", ".join(BUILTIN)
            return (
                spec,
                "none",
                f"The built-in data set {spec.get('name')!r} is not one of {shown}.",
                {},
            )
        file, _, how = BUILTIN[spec["name"]]
        spec["path"] = str((datasets_dir() / file).resolve())
        if file.endswith(".csv"):
            spec["target"] = how["target"]
            return spec, "table", "", {}
        spec["class_names"] = list(how["class_names"])
        scale = how["scale"] if standardize and how["scale"] != 1.0 else None
        return spec, "arrays", "", {"ARRAY_SCALE": scale}
    if source == "csv":
        return spec, "table", "", {}
    if source == "npz":
        return spec, "arrays", "", {"ARRAY_SCALE": None}
    if source == "image_folder":
        _image_defaults(spec, graph)
        return spec, "images", "", {}
    if source == "timeseries":
        return spec, "timeseries", "", {}

    if spec.get("name") not in KERAS_SETS:
        shown = ", ".join(KERAS_SETS)
        return spec, "none", f"The Keras data set {spec.get('name')!r} is not one of {shown}.", {}
    return spec, "keras", "", {"KERAS_CLASSES": list(KERAS_SETS[spec["name"]][1])}


def _image_defaults(spec: dict, graph) -> None:
    """An image folder read at the network's Input size and channels, unless the spec says."""
    inputs = graph.input_nodes()
    try:
        shape = tuple(input_shape_of(inputs[0])[1:]) if len(inputs) == 1 else ()
    except ValueError:
        shape = ()
    if len(shape) == 3:
        if spec.get("image_size") is None and shape[0] and shape[1]:
            spec["image_size"] = [int(shape[0]), int(shape[1])]
        if spec.get("color_mode") is None and shape[2] in (1, 3, 4):
            spec["color_mode"] = {1: "grayscale", 3: "rgb", 4: "rgba"}[shape[2]]


def _readers(family: str, pre: dict | None, spec: dict) -> set[str]:
    """What `predict` can read: a trained model's inputs say it; else the project's data."""
    if pre is not None:
        readers = {"npz"}
        if pre.get("table"):
            readers.add("table")
        if pre.get("image"):
            readers.add("images")
        if family == "timeseries":
            readers.add("windows")
        return readers
    if family == "keras":
        return {"npz"} if spec.get("name") == "imdb" else {"images", "npz"}
    return {
        "table": {"table", "npz"},
        "images": {"images", "npz"},
        "timeseries": {"windows", "npz"},
    }.get(family, {"npz"})


# ---------------------------------------------------------------------- training
def _train_function(cfg: TrainingConfig, graph, several: bool = False) -> list[str]:
    """``def train(data_path=None, epochs=None)`` with the project's training settings;
    `several`: the data has one target column per network output."""
    ind = "    "
    ft = cfg.fine_tuning
    lines = [
        "def train(data_path=None, epochs=None):",
        '    """Train the network from scratch with the project\'s settings on its data (or on',
        "    DATA), then save the whole model beside this script: the preprocessing adapted to the",
        '    training split, run once over each split; the network trained on what it makes."""',
        "    import keras",
        "",
        "    data = PROJECT.load_data(data_path)",
        '    task = data["task"]',
        "    x_train, y_train, validation, test = preprocessed(data)",
    ]
    if cfg.seed is not None:
        lines.append(f"{ind}keras.utils.set_random_seed({cfg.seed})")
    lines += [
        f"{ind}network = build_network()",
        f"{ind}check_shapes(network, x_train)",
        f"{ind}epochs, batch_size = epochs or {cfg.epochs}, {cfg.batch_size}",
        *(
            [f"{ind}steps_per_epoch = math.ceil(sample_count(y_train) / batch_size)"]
            if cfg.schedule.kind in ("step", "exponential", "cosine")
            else []
        ),
        f"{ind}learning_rate = {_schedule(cfg)}",
        f"{ind}optimizer = {_optimizer(cfg)}",
    ]
    if several:
        weights = getattr(cfg, "loss_weights", None)
        lines += [
            f"{ind}# The project's settings; each output's own where they are given per output.",
            *_assign_in("loss_setting", cfg.loss, ind),
            *_assign_in("metrics_setting", cfg.metrics, ind),
            *_assign_in("weights_setting", weights, ind),
            f"{ind}loss, metrics, loss_weights = several_outputs(",
            f'{ind}    network, data["outputs"], loss_setting, metrics_setting, weights_setting',
            f"{ind})",
        ]
        compile_lines = [
            "network.compile(",
            "    optimizer=optimizer, loss=loss, metrics=metrics, loss_weights=loss_weights",
            ")",
        ]
    else:
        lines += [
            f"{ind}loss = {_loss(cfg, graph)}",
            f"{ind}metrics = {_metrics(cfg, graph)}",
        ]
        compile_lines = ["network.compile(optimizer=optimizer, loss=loss, metrics=metrics)"]
    if ft.enabled:
        top = ft.unfreeze_layers
        which = "every layer" if top == 0 else f"the top {_count(top, 'layer')}"
        comment = (
            "Fine-tuning, as keras.io's transfer-learning guide does it: the backbone frozen for "
            f"{_count(ft.frozen_epochs, 'epoch')}, then {which} with weights of it train at "
            f"learning rate {ft.learning_rate:g} (BatchNormalization stays frozen)."
        )
        lines += [
            *(f"{ind}# {part}" for part in textwrap.wrap(comment, LINE - len(ind) - 2)),
            f"{ind}frozen_epochs = min(epochs, {ft.frozen_epochs})",
            f"{ind}freeze_backbones(network)",
        ]
    lines += [ind + line for line in compile_lines]
    lines += _adapt_normalization(graph)
    lines.append(f"{ind}callbacks = []")
    stop = cfg.early_stopping
    if stop.enabled:
        lines.append(
            f"{ind}callbacks.append(keras.callbacks.EarlyStopping("
            f"monitor={_s(stop.monitor)}, patience={stop.patience}, "
            f"restore_best_weights={stop.restore_best_weights}"
            # Keras's default mode, "auto", is left unsaid: the script reads as before.
            + (f", mode={_s(stop.mode)}" if stop.mode != "auto" else "")
            + "))"
        )
    if cfg.schedule.kind == "plateau":
        s = cfg.schedule
        lines += [
            f'{ind}monitor = "val_loss" if validation is not None else "loss"',
            f"{ind}callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=monitor, "
            f"factor={s.factor}, patience={s.patience}, min_lr={s.min_learning_rate}))",
        ]
    class_weight = "None"
    if cfg.class_weight == "balanced":
        lines.append(f"{ind}class_weight = balanced_class_weight(task, y_train)")
        class_weight = "class_weight"
    elif isinstance(cfg.class_weight, dict):  # by class name: the data's classes say which index
        lines += [
            *_assign_in("weight_per_class", cfg.class_weight, ind),
            f'{ind}class_weight = per_class_weight(task, data["classes"], weight_per_class)',
        ]
        class_weight = "class_weight"

    def fit(result: str, until: str, start: str | None, at: str) -> list[str]:
        return [
            f"{at}{result} = network.fit(",
            f"{at}    x_train,",
            f"{at}    y_train,",
            f"{at}    validation_data=validation,",
            *([f"{at}    initial_epoch={start},"] if start else []),
            f"{at}    epochs={until},",
            f"{at}    batch_size=batch_size,",
            f"{at}    class_weight={class_weight},",
            f"{at}    shuffle=True,",
            f"{at}    callbacks=callbacks,",
            f"{at})",
        ]

    if ft.enabled:
        again = ind * 2
        lines += [
            *fit("history", "frozen_epochs", None, ind),
            f"{ind}if epochs > frozen_epochs:",
            f"{again}unfrozen = unfreeze_top(network, {ft.unfreeze_layers})",
            f'{again}print(f"Fine-tuning {{unfrozen}} layers of the backbone from epoch '
            f'{{frozen_epochs + 1}}.")',
            f"{again}optimizer = {_optimizer(cfg, repr(ft.learning_rate))}",
            *(again + line for line in compile_lines),
            *fit("tuned", "epochs", "frozen_epochs", again),
            f"{again}for key, values in tuned.history.items():",
            f"{again}    history.history.setdefault(key, []).extend(values)",
        ]
    else:
        lines += fit("history", "epochs", None, ind)
    lines += [
        f'{ind}print("Epochs run:", len(history.history["loss"]))',
        f"{ind}if test is not None:",
        f"{ind}    scores = network.evaluate(*test, batch_size=batch_size, verbose=0, return_dict=True)",
        f'{ind}    print("Test metrics:", {{k: round(float(v), 4) for k, v in scores.items()}})',
        f'{ind}pre, classes, outputs = data["preprocessing"], data["classes"], data.get("outputs")',
        f"{ind}PROJECT.save_trained(pre, network, task, classes, outputs)",
        f"{ind}return network, history",
    ]
    return [part for line in lines for part in _fit(line)]


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _fit(line: str) -> list[str]:
    """A statement too long for one line, its call's arguments one per line."""
    if len(line) <= LINE:
        return [line]
    text = line.lstrip(" ")
    return _wrap(line[: len(line) - len(text)], text, "")


def _adapt_normalization(graph) -> list[str]:
    """A Normalization layer right after the one Input, without a mean of its own, learns its
    mean and variance from the training data, as the engine does."""
    inputs = graph.input_nodes()
    if len(inputs) != 1:
        return []
    out = []
    for nid in graph.successors(inputs[0].id):
        node = graph.nodes[nid]
        if node.class_name == "Normalization" and node.config.get("mean") is None:
            out += [
                "    if not isinstance(x_train, dict):  # it learns its mean and variance here",
                f"        network.get_layer({_s(node.name)}).adapt(x_train)",
            ]
    return out


def _schedule(cfg: TrainingConfig) -> str:
    s, lr = cfg.schedule, cfg.learning_rate
    if s.kind == KERAS_SCHEDULE and s.config is not None:
        return _keras_object("optimizers.schedules", s.config, positional=1)
    if s.kind == "step":
        return (
            f"keras.optimizers.schedules.ExponentialDecay({lr}, decay_steps={s.every_epochs} "
            f"* steps_per_epoch, decay_rate={s.factor}, staircase=True)"
        )
    if s.kind == "exponential":
        return (
            f"keras.optimizers.schedules.ExponentialDecay({lr}, "
            f"decay_steps=steps_per_epoch, decay_rate={s.decay_rate})"
        )
    if s.kind == "cosine":
        alpha = min(1.0, s.min_learning_rate / lr)
        return (
            f"keras.optimizers.schedules.CosineDecay({lr}, "
            f"decay_steps=epochs * steps_per_epoch, alpha={alpha})"
        )
    return repr(lr)


def _keras_object(prefix: str, serialized: dict[str, Any], positional: int | None = None) -> str:
    """A Keras object kept as Keras serializes it (a schedule, a loss), as the constructor call
    that makes it: ``keras.losses.Huber(delta=2.0)``, its arguments at their defaults left out
    (the first `positional` required ones by position, the others by name)."""
    config = _plain(dict(serialized.get("config") or {}))
    name = serialized["class_name"]
    return _Renderer().call(prefix, name, config, None, serialized, positional)


def _optimizer(cfg: TrainingConfig, learning_rate: str = "learning_rate") -> str:
    """The optimizer as training.config.make_optimizer makes it: the arguments its top-level
    fields give (as they always have), then its optimizer_options."""
    args = [learning_rate]
    if cfg.optimizer in ("sgd", "rmsprop") and cfg.momentum:
        args.append(f"momentum={cfg.momentum}")
    if cfg.optimizer == "sgd" and cfg.nesterov:
        args.append("nesterov=True")
    if cfg.optimizer == "adamw":
        args.append(f"weight_decay={0.004 if cfg.weight_decay is None else cfg.weight_decay}")
    elif cfg.optimizer == "adam" and cfg.weight_decay:
        args.append(f"weight_decay={cfg.weight_decay}")
    args += [f"{key}={_flat(value)}" for key, value in cfg.optimizer_options.items()]
    return f"keras.optimizers.{OPTIMIZER_CLASSES[cfg.optimizer]}({', '.join(args)})"


def _assign_in(name: str, value: Any, ind: str, tail: str = "") -> list[str]:
    """``NAME = literal`` inside a function body at `ind` (``NAME=literal,`` as a keyword
    argument, `tail` ","), wrapped as `_literal` wraps."""
    equals = "=" if tail else " = "
    width = len(ind) + len(name) + len(equals)
    text = _literal(value, len(ind), width) if value is not None else "None"
    return f"{ind}{name}{equals}{text}{tail}".splitlines()


def _one_output(value: Any, graph) -> Any:
    """A setting for a one-output network: a dict by output name gives its output's entry."""
    if not isinstance(value, dict) or is_serialized(value):
        return value
    outputs = graph.output_nodes()
    return value.get(outputs[0].name, "auto") if len(outputs) == 1 else "auto"


def _loss(cfg: TrainingConfig, graph) -> str:
    loss = _one_output(cfg.loss, graph)
    if loss == "auto":
        return "default_loss(task, network.outputs[0].shape[-1])"
    if is_serialized(loss):
        return _keras_object("losses", loss)
    return _s(loss)


def _metrics(cfg: TrainingConfig, graph) -> str:
    metrics = _one_output(cfg.metrics, graph)
    if metrics == "auto":
        return '["mae"] if task == "regression" else ["accuracy"]'
    # The labels are class indices, as in deepgui: top-k is Keras's sparse variant.
    return json.dumps([SPARSE_TOP_K if m == TOP_K else m for m in metrics])
