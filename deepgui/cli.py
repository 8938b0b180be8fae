"""The one entry point, ``deepgui``: the desktop app, and the headless commands on the same core.

Nothing heavy is imported here: TensorFlow and Qt load inside the command that needs them, so
``deepgui examples`` answers at once and a bad argument is reported before any import.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from deepgui import cli_words
from deepgui.cli_words import EXIT_BAD_INPUT, Parser
from deepgui.core.errors import DeepGuiError

COMMANDS = ("summary", "import", "export", "train", "sweep", "worker", "predict", "evaluate",
            "explain", "diff", "examples", "datasets")  # fmt: skip
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
EXPORT_FORMATS = ("keras", "savedmodel", "tflite", "onnx", "python")
# Exit status (README, "The command line"): `train`, `sweep` and `predict` refuse bad input (a missing
# file, a wrong column, a bad option value) with 2 (EXIT_BAD_INPUT), and say a failure while
# training with 1.
EXIT_FAILED = 1
BAD_INPUT_COMMANDS = ("train", "sweep", "predict", "evaluate", "explain", "diff")
SPLIT_PARTS = ("train", "validation", "test")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="deepgui",
        description="Build, train and export Keras neural networks visually. "
        "Run without a command to open the desktop app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("summary", help="print one row per layer and the total parameter count")
    p.add_argument("file", help="a project (.dgproj) or a Keras model (.keras, .h5)")

    p = sub.add_parser("import", help="turn a Keras model into an editable project, weights kept")
    p.add_argument("model", help="the Keras model file (.keras, .h5)")
    p.add_argument("-o", "--output", required=True, help="the project file to write (.dgproj)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing project file and its weights file (only files deepgui wrote)",
    )

    p = sub.add_parser("export", help="export a project or a training run")
    p.add_argument("project", help="a project (.dgproj) or a run directory")
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS, dest="fmt")
    p.add_argument("-o", "--output", required=True, help="where to write the export")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset")
    p.add_argument(
        "--quantize", choices=("none", "float16", "dynamic"), default="none", help="TFLite only"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an earlier export at PATH (never a folder or file deepgui did not write)",
    )

    p = sub.add_parser("train", help="train a project without a window")
    from deepgui import train_cli  # opening the app needs no command

    train_cli.add_arguments(p)

    p = sub.add_parser("sweep", help="search for better settings: many runs, each a trial")
    from deepgui import sweep_cli  # opening the app needs no command

    sweep_cli.add_arguments(p)

    p = sub.add_parser("worker", help="join a run on several machines as one of its ranks")
    from deepgui import worker_cli  # opening the app needs no command

    worker_cli.add_arguments(p)

    p = sub.add_parser("predict", help="predict with a trained model on raw data")
    p.add_argument("model", help=ANY_MODEL)
    _data_or_split(p, "a CSV (with or without its target), an image or folder, .npz")
    p.add_argument(
        "-o",
        "--output",
        help="write the predictions to this CSV (default: stdout); a model with several outputs "
        "gives each output's columns, named after it",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    _trust(p, "run")

    p = sub.add_parser("evaluate", help="per-class precision, recall and F1 on labelled data")
    p.add_argument("model", help=ANY_MODEL)
    _data_or_split(p, "labelled data: a CSV with its target, an image folder, .npz")
    p.add_argument(
        "-o",
        "--output",
        help="write one row per class to this CSV (columns class, precision, recall, f1, "
        "support; a regression's: metric, value)",
    )
    p.add_argument("--force", action="store_true", help="overwrite a report deepgui wrote")
    _trust(p, "score")
    p = sub.add_parser("explain", help="why a model predicts what it does: Grad-CAM, attributions")
    p.add_argument("model", help="a run directory (needed with --split) or a .keras file")
    _data_or_split(p, "an image or image folder, a CSV, an .npz")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="the folder to write into: per image CLASS/STEM.npy (a heat map) and STEM.png (an "
        "overlay); for a table attributions.csv, one column per input column",
    )
    p.add_argument("--force", action="store_true", help="write into a folder that holds files")
    p = sub.add_parser("diff", help="what differs between two runs: layers, settings, scores")
    p.add_argument("run_a", help="the first run directory (A)")
    p.add_argument("run_b", help="the second run directory (B): changes read A → B")
    sub.add_parser("examples", help="list the bundled example projects")
    sub.add_parser("datasets", help="list the bundled sample data sets")
    parser.commands = sub.choices  # an unknown option is told by its command's parser
    return parser


ANY_MODEL = "a run directory, or a .keras, SavedModel, .tflite or .onnx export"


def _trust(p: argparse.ArgumentParser, verb: str) -> None:
    """--trust: what `verb`ing a SavedModel from elsewhere allows."""
    p.add_argument(
        "--trust",
        action="store_true",
        help=f"{verb} a SavedModel deepgui did not export: it is a program and may run any "
        "TensorFlow operation, writing files included",
    )


def _data_or_split(p: argparse.ArgumentParser, data_help: str) -> None:
    """--data PATH, or --split PART: the rows of that part of a run's own split."""
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--data", help=data_help)
    group.add_argument(
        "--split",
        choices=SPLIT_PARTS,
        help="instead of --data: exactly the rows of this part of the run's split, read from "
        "the data it was trained on",
    )


def _app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepgui", add_help=False)
    parser.add_argument("file", nargs="?", default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else None
    try:
        if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help")):
            args = _parse(argv)
            return args if isinstance(args, int) else _dispatch(args)
        args, rest = _app_parser().parse_known_args(argv)
        if rest:  # the app takes one file and no options
            options = " ".join(rest)
            print(f"deepgui: unrecognized arguments: {options}; see deepgui --help.",
                  file=sys.stderr)  # fmt: skip
            return EXIT_BAD_INPUT
        return _run_app(args.file)
    except DeepGuiError as exc:
        print(f"deepgui: {cli_words.sentence(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT if command in BAD_INPUT_COMMANDS else EXIT_FAILED
    except KeyboardInterrupt:
        print("deepgui: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback in a user's face; DEEPGUI_DEBUG=1 shows it
        if os.environ.get("DEEPGUI_DEBUG"):
            raise
        print(f"deepgui: {_unexpected(exc)}", file=sys.stderr)
        return 1


def _parse(argv: list[str]) -> argparse.Namespace | int:
    """The parsed command, or the exit status argparse chose (0 after --help, 2 for a bad
    option): returned, not raised, so that `main` called in-process returns it too."""
    parser = _parser()
    try:
        args, rest = parser.parse_known_args(argv)
        if rest:
            who = parser.commands.get(getattr(args, "command", None) or "", parser)
            who.error(f"unrecognized arguments: {' '.join(rest)}")
        return args
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT


def _unexpected(exc: BaseException) -> str:
    """One sentence for an error no command foresaw (a bug to report, or the machine)."""
    from deepgui.core import fileio  # 15 ms that only an unexpected error needs

    if isinstance(exc, MemoryError):
        return "ran out of memory; close other programs or use smaller data."
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to be read."
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {fileio.why(exc)}."
    text = " ".join(str(exc).split())[:300] or type(exc).__name__
    return (
        f"unexpected error ({type(exc).__name__}: {text}); run again with DEEPGUI_DEBUG=1 "
        "for the details to put in a bug report."
    )


# Models that run in their own runtime (onnxruntime, LiteRT): predicting with one needs neither
# TensorFlow nor Keras, whose import is most of a command's start-up.
OWN_RUNTIME_SUFFIXES = (".onnx", ".tflite")


def _runs_keras(args: argparse.Namespace) -> bool:
    """Whether the command runs Keras: then it is imported first, with TensorFlow's native
    log lines silenced (a module that imports it later would let them through). A command
    that reads a project first (summary of a .dgproj, train, sweep) imports it itself once the
    project is read: a file refused for its size (limits.py) is said before TensorFlow's
    seconds of import, not after."""
    if args.command == "explain":
        return True
    if args.command in ("predict", "evaluate"):
        return Path(args.model).suffix.lower() not in OWN_RUNTIME_SUFFIXES
    if args.command == "summary":
        return _keras_file(Path(args.file)) is not None
    return args.command in ("import", "export")


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if _runs_keras(args):
        # the core: only for a command that runs Keras
        from deepgui.core.keras_layers import quiet_backend_start

        quiet_backend_start()
    if command == "summary":
        return cmd_summary(Path(args.file))
    if command == "import":
        return cmd_import(Path(args.model), Path(args.output), force=args.force)
    if command == "export":
        options = {}
        if args.opset is not None:
            options["opset"] = args.opset
        if args.quantize != "none":
            options["quantize"] = args.quantize
        return cmd_export(Path(args.project), args.fmt, Path(args.output), options, args.force)
    if command == "train":
        from deepgui import train_cli  # opening the app needs no command

        return train_cli.run(args)
    if command == "sweep":
        from deepgui import sweep_cli  # opening the app needs no command

        return sweep_cli.run(args)
    if command == "worker":
        from deepgui import worker_cli  # opening the app needs no command

        return worker_cli.run(args)
    if command in ("predict", "evaluate"):
        out = Path(args.output) if args.output else None
        data = Path(args.data) if args.data else None
        if command == "predict":
            return cmd_predict(Path(args.model), data, out, force=args.force, split=args.split,
                               trust=args.trust)  # fmt: skip
        return cmd_evaluate(Path(args.model), data, out, force=args.force, split=args.split,
                            trust=args.trust)  # fmt: skip
    if command == "explain":
        data = Path(args.data) if args.data else None
        return cmd_explain(Path(args.model), data, Path(args.output), args.force, args.split)
    if command == "diff":
        return cmd_diff(Path(args.run_a), Path(args.run_b))
    if command == "examples":
        return cmd_examples()
    if command == "datasets":
        return cmd_datasets()
    raise AssertionError(command)


def _run_app(file: str | None) -> int:
    if file is not None and not Path(file).exists():
        raise DeepGuiError(f"{file}: no such file.")
    from deepgui.ui.app import run_app  # Qt: only the app needs it

    return run_app(file)


def load_any(path: Path):
    """A project from a .dgproj, or from a Keras model file imported on the fly."""
    from deepgui.core.project import load_project  # the core: not for --help

    if not path.exists():
        raise DeepGuiError(f"{path}: no such file.")
    model_file = _keras_file(path)
    if model_file is not None:
        # NumPy and the core: not for --help
        from deepgui.core.keras_import import project_from_model_file

        project, _model = project_from_model_file(model_file)
        return project
    return load_project(path)


def _keras_file(path: Path) -> Path | None:
    """The Keras model file `path` names (itself, or a run directory's model), which only
    Keras reads; None for a project, read without it."""
    if path.is_dir() and (path / "model.keras").is_file():  # a run directory
        return path / "model.keras"
    return path if path.suffix.lower() in MODEL_SUFFIXES else None


def cmd_summary(path: Path) -> int:
    from deepgui.core.keras_loader import quiet_backend_start  # the core: not for --help
    from deepgui.core.shapes import ShapeInference, summary_rows

    project = load_any(path)  # a project too big is refused here, before Keras loads
    quiet_backend_start()  # shape inference counts parameters with Keras's layers
    inference = ShapeInference(project.graph)
    inference.update()
    if _print_problems(inference):
        # A failed summary is its errors alone: the table and its totals would show only
        # unknown shapes and "Total params: 0".
        return 1
    rows = summary_rows(project.graph, inference.info)
    headers = ("Layer", "Type", "Output shape", "Params", "Connected to")
    table = [
        (r["name"], r["type"], r["output_shape"], f"{r['params']:,}", ", ".join(r["connected_to"]))
        for r in rows
    ]
    widths = [
        max(len(h), *(len(row[i]) for row in table)) if table else len(h)
        for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip())
    print("-" * len(line.rstrip()))
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print("-" * len(line.rstrip()))
    total = inference.total_params()
    trainable = sum(i.trainable_params for i in inference.info.values())
    _print_preprocessing(path, project)
    print(f"Trainable params: {trainable:,}")
    print(f"Non-trainable params: {total - trainable:,}")
    print(f"Total params: {total}")
    return 0


def _print_problems(inference) -> bool:
    """Each layer's first error and every warning, one sentence each on stderr; whether any
    layer failed."""
    failed: set[str] = set()
    for nid, severity, message in inference.problems():
        if severity == "error":
            if nid in failed:
                continue  # one sentence per layer: its first error is the one to fix first
            failed.add(nid)
        end = "" if message.rstrip().endswith((".", "!", "?")) else "."
        print(f"{severity}: {message.rstrip()}{end}", file=sys.stderr)
    return bool(failed)


def _print_preprocessing(path: Path, project) -> None:
    """The layers between the data and the network, when a trained model has them."""
    from deepgui.core.predict_sources import of_source  # NumPy and the core: not for --help

    sig, where = of_source(path, project)
    pre = sig.preprocessing if sig is not None else None
    if pre is None or pre.is_identity:
        return
    print(f"Preprocessing inside {where}: {pre.step_count()} layers (no weights), taking")
    rows = [(r.column or r.name, r.describe()) for r in pre.inputs]
    width = max(len(name) for name, _ in rows)
    for name, what in rows:
        print(f"  {name.ljust(width)}  {what}")
    print("-" * (width + 2))


def cmd_import(model_path: Path, output: Path, force: bool = False) -> int:
    # NumPy and the core: not for --help
    from deepgui.core.keras_import import check_import_target, import_model_file_and_model

    if model_path.suffix.lower() not in MODEL_SUFFIXES:
        raise DeepGuiError(f"{model_path}: not a Keras model file (expected .keras or .h5).")
    if not model_path.exists():
        raise DeepGuiError(f"{model_path}: no such file.")
    check_import_target(output, force)  # before the model loads: a bad -o is said at once
    project, model = import_model_file_and_model(model_path, output, force)
    print(f"Imported {len(project.graph)} layers ({model.count_params():,} params) into {output}")
    for note in project.import_notes:
        print(f"note: {note}")
    return 0


def cmd_export(project: Path, fmt: str, output: Path, options: dict, force: bool = False) -> int:
    from deepgui.core.export import export_project  # NumPy and the core: not for --help

    if not project.exists():
        raise DeepGuiError(f"{project}: no such file or run directory.")
    report = export_project(project, fmt, output, force=force, **options)
    print(report.message)
    return 0 if report.ok else 1


def cmd_predict(
    model: Path,
    data: Path | None,
    output: Path | None,
    force: bool = False,
    split: str | None = None,
    trust: bool = False,
) -> int:
    # NumPy and the core: not for --help
    from deepgui.core.predict import check_output, predict_file, write_predictions

    if output is not None:
        check_output(output, force)  # before the model loads
    predictions = predict_file(model, data, split=split, trust=trust)
    if output is None:
        sys.stdout.write(predictions.csv_text())
        print(predictions.summary(), file=sys.stderr)
        return 0
    write_predictions(predictions, output, force)
    print(f"{predictions.summary()} Wrote {output}.")
    return 0


def cmd_evaluate(
    model: Path,
    data: Path | None,
    output: Path | None,
    force: bool = False,
    split: str | None = None,
    trust: bool = False,
) -> int:
    # NumPy and the core: not for --help
    from deepgui.core.evaluate import check_output, evaluate_file, write_report

    if output is not None:
        check_output(output, force)  # before the model loads
    evaluation = evaluate_file(model, data, split=split, trust=trust)
    print("\n".join(evaluation.lines()))
    if output is not None:
        write_report(evaluation, output, force)
        print(f"Wrote {output}.")
    return 0


def cmd_explain(
    model: Path, data: Path | None, output: Path, force: bool = False, split: str | None = None
) -> int:
    from deepgui.core.explain import check_output, explain_file  # the core: not for --help

    check_output(output, force)  # before the model loads
    print(explain_file(model, data, output, force, split=split))
    return 0


def cmd_diff(run_a: Path, run_b: Path) -> int:
    from deepgui.core.training.run_diff import diff_runs

    for line in diff_runs(run_a, run_b).report_lines():
        print(line)
    return 0


def cmd_examples() -> int:
    from deepgui.core.training.examples import list_examples  # NumPy and the core: not for --help

    for name, path, description in list_examples():
        print(f"{name}\t{path}\t{description}")
    return 0


def cmd_datasets() -> int:
    from deepgui.core.data import builtin_datasets  # NumPy and the core: not for --help

    for name, path, description in builtin_datasets():
        print(f"{name}\t{path}\t{description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
