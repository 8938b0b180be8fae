"""The parts of a generated program that build the whole model and predict with it: the Keras
layers that turn the data as the user has it into the network's inputs, the model with the
trained weights loaded, the readers for raw data and the predictions file.

The code is kept here as text, pasted into the script as it is (codegen_training.py picks the
parts a project needs): the script must run where deepgui is not installed, and the desktop
bundle ships no Python sources to read them from. Every part mirrors its counterpart in deepgui
(data/preprocessing.py, predict.py) so that the script's model holds the same layers in the same
order as a run's ``model.keras``, whose weights then load into it. tests/test_export_script.py
runs these parts, and checks that they lint clean, for every kind of data source.
"""

from __future__ import annotations

PROBLEM = r'''
class Problem(Exception):
    """A problem with the data or the files, said in one sentence (no traceback)."""
'''

PREPROCESSING = r'''
def layer_name(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def preprocess(pre, raw):
    """The network's inputs made from the raw inputs by Keras layers holding the constants in
    `pre`, group by group (a group's parts side by side)."""
    tensors = raw if pre["table"] else {pre["inputs"][0]["name"]: raw}
    by_name = {r["name"]: r for r in pre["inputs"]}
    out = {}
    for group in pre["groups"]:
        parts = []
        for run in numeric_runs([by_name[n] for n in group["inputs"]]):
            if isinstance(run, list):  # neighbouring numeric columns: one set of operations
                parts.append(encode_numbers(run, [tensors[r["name"]] for r in run]))
            else:
                parts.append(encode(run, tensors[run["name"]]))
        if len(parts) == 1:
            out[group["name"]] = parts[0]
        else:
            merge = layers.Concatenate(name=layer_name(group["name"] + "_columns"))
            out[group["name"]] = merge(parts)
    return out if len(out) > 1 else next(iter(out.values()))


def numeric_runs(inputs):
    """The inputs in order, neighbouring numeric columns gathered into lists."""
    out = []
    for r in inputs:
        if r["kind"] == "numeric" and list(r["shape"]) == [1]:
            if out and isinstance(out[-1], list):
                out[-1].append(r)
                continue
            out.append([r])
        else:
            out.append(r)
    return [run[0] if isinstance(run, list) and len(run) == 1 else run for run in out]


def encode_numbers(run, tensors):
    """Numeric columns side by side: each one's gaps become its training median, then
    x * scale + offset standardizes it."""
    first = layer_name(run[0]["name"])
    x = layers.Concatenate(name=f"numbers_from_{first}")(tensors)
    if any(r["fill"] is not None for r in run):
        fill = np.array([0.0 if r["fill"] is None else r["fill"] for r in run], np.float32)
        x = keras.ops.where(keras.ops.isnan(x), fill, x)
    if any(r["scale"] is not None for r in run):
        scale = [1.0 if r["scale"] is None else r["scale"] for r in run]
        offset = [0.0 if r["offset"] is None else r["offset"] for r in run]
        x = layers.Rescaling(scale=scale, offset=offset, name=f"standardize_from_{first}")(x)
    return x


def encode(r, x):
    """The layers for one raw input: a number as above; a category as one-hot columns (the
    first for unseen values) or its index; a text as word ids; an image or array rescaled, or
    passed as it is."""
    if r["kind"] in ("numeric", "array"):
        if r.get("resize"):  # an image of any size, resized as the loader resized it
            x = layers.Resizing(*r["resize"], name=layer_name("resize_" + r["name"]))(x)
        if r["fill"] is not None:
            x = keras.ops.where(keras.ops.isnan(x), r["fill"], x)
        if r["scale"] is not None:
            x = layers.Rescaling(
                scale=r["scale"],
                offset=r["offset"] or 0.0,
                name=layer_name("scale_" + r["name"]),
            )(x)
        return x
    if r["kind"] == "category":
        x = layers.StringLookup(
            vocabulary=list(r["vocabulary"]) or ["[none]"],
            num_oov_indices=1,
            output_mode="one_hot" if r["one_hot"] else "int",
            name=layer_name("lookup_" + r["name"]),
        )(x)
        return x if r["one_hot"] else keras.ops.cast(x, "float32")
    words = layers.TextVectorization(
        vocabulary=list(r["vocabulary"]) or ["[none]"],
        output_mode="int",
        output_sequence_length=r["sequence_length"],
        name=layer_name("words_" + r["name"]),
    )
    return words(keras.ops.reshape(x, (-1,)))


def raw_inputs(pre):
    """One keras.Input per raw input: a dict by name for a table, else the one tensor."""
    tensors = {
        r["name"]: keras.Input(shape=tuple(r["shape"]), dtype=r["dtype"], name=r["name"])
        for r in pre["inputs"]
    }
    return tensors if pre["table"] else next(iter(tensors.values()))


def preprocessing_model(pre):
    """The preprocessing alone: raw data in, the network's inputs out."""
    raw = raw_inputs(pre)
    return keras.Model(raw, preprocess(pre, raw), name="preprocessing")


def named_for(pre, network):
    """`pre` with its one raw array input named as the network's input, as the saved model has
    it (a table keeps its column names)."""
    inputs, groups = [dict(r) for r in pre["inputs"]], [dict(g) for g in pre["groups"]]
    pre = dict(pre, inputs=inputs, groups=groups)
    if not pre["table"] and len(pre["inputs"]) == 1 and len(network.inputs) == 1:
        name = str(network.inputs[0].name).split(":")[0]
        pre["inputs"][0]["name"] = name
        pre["groups"][0]["inputs"] = [name]
    return pre


def build_model(pre, network):
    """The whole model: the data as you have it in (columns by name, raw pixels), the network's
    outputs out. It holds the same layers in the same order as the model deepgui trains and
    saves, so that model's weights load into this one."""
    pre = named_for(pre, network)
    raw = raw_inputs(pre)
    feed = preprocessing_model(pre)(raw)
    if isinstance(feed, dict) and len(network.inputs) == 1:
        raise Problem(
            f"The network has one input but the data feeds {len(feed)} ({', '.join(feed)}): "
            "give it one Input per name."
        )
    return keras.Model(raw, network(feed), name=network.name + "_with_preprocessing")
'''

TRAINED = r'''
def trained_constants():
    """(task, classes, preprocessing) that go with the weights beside this script: what `train`
    wrote to SIGNATURE, else the constants at the top of this file."""
    if SIGNATURE.is_file():
        try:
            with open(SIGNATURE, encoding="utf-8") as fh:
                signature = json.load(fh)
            return signature["task"], list(signature["classes"]), signature["preprocessing"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise Problem(f"{SIGNATURE}: cannot be read ({exc}); train again.") from None
    if PREPROCESSING is None or not WEIGHTS.is_file():
        raise Problem(NOT_TRAINED)
    return TASK, list(CLASSES), PREPROCESSING


def trained_outputs():
    """A model with several outputs: each one's name, task and classes, in the order the model
    returns them (from SIGNATURE when `train` wrote it); [] for a model with one output."""
    if SIGNATURE.is_file():
        try:
            with open(SIGNATURE, encoding="utf-8") as fh:
                return list(json.load(fh).get("outputs") or [])
        except (OSError, ValueError, AttributeError) as exc:
            raise Problem(f"{SIGNATURE}: cannot be read ({exc}); train again.") from None
    return list(OUTPUTS)


def load_trained_model():
    """The model this code builds, with the trained weights beside this script loaded into it;
    and its task, class names and preprocessing constants."""
    task, classes, pre = trained_constants()
    if not WEIGHTS.is_file():
        raise Problem(NOT_TRAINED)
    model = build_model(pre, build_network())
    try:
        model.load_weights(WEIGHTS)
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise Problem(f"{WEIGHTS}: does not fit the model in this script ({first}).") from None
    return model, task, classes, pre
'''

PREDICT = r'''
def run_outputs(model, x, batch=4096):
    """Each of the model's outputs on `x` (an array, or a dict of arrays by input name), in
    batches, as (n, k) arrays in the order the model returns them."""
    n = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
    outs = []
    for start in range(0, n, batch):
        if isinstance(x, dict):
            part = {k: v[start : start + batch] for k, v in x.items()}
        else:
            part = x[start : start + batch]
        out = model(part, training=False)
        if isinstance(out, dict):
            out = list(out.values())
        elif not isinstance(out, (list, tuple)):
            out = [out]
        rows = min(batch, n - start)
        outs.append(
            [np.asarray(keras.ops.convert_to_numpy(o), dtype=np.float64).reshape(rows, -1)
             for o in out]
        )
    if not outs:
        return [np.zeros((0, 1))]
    return [np.concatenate(parts) for parts in zip(*outs, strict=True)]


def run_model(model, x, batch=4096):
    """The model's first output on `x`, in batches, as an (n, k) array."""
    return run_outputs(model, x, batch)[0]


def class_columns(outputs, classes, task):
    """(class names, one probability per class, the predicted labels) of a classifier's
    output; a single sigmoid unit gives P(second class)."""
    classes = classes or [str(i) for i in range(max(outputs.shape[1], 2))]
    probabilities = outputs
    if outputs.shape[1] == 1 and len(classes) == 2:
        probabilities = np.concatenate([1.0 - outputs, outputs], axis=1)
    if task == "multilabel":
        predicted = [
            ";".join(c for c, p in zip(classes, row, strict=True) if p >= 0.5)
            for row in probabilities
        ]
    else:
        predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    return classes, probabilities, predicted


def one_output_table(ids, outputs, task, classes, pre, labels):
    """(header, rows, summary): the row number or file, the predicted class and one
    probability per class (a regression: the predicted value), and the true label where the
    data has it."""
    classes = classes or [str(i) for i in range(max(outputs.shape[1], 2))]
    if task != "regression" and outputs.shape[1] == 1 and len(classes) > 2:
        task = "regression"
    first = "file" if ids and not ids[0].isdigit() else "row"
    predicted = None
    if task == "regression":
        header = [first, "prediction"]
        rows = [[i, f"{v:.6g}"] for i, v in zip(ids, outputs[:, 0], strict=True)]
    else:
        classes, probabilities, predicted = class_columns(outputs, classes, task)
        header = [first, "predicted", *(f"p({c})" for c in classes)]
        rows = [
            [i, label, *(f"{p:.6f}" for p in row)]
            for i, label, row in zip(ids, predicted, probabilities, strict=True)
        ]
    if labels is not None:
        header.append(pre.get("target") or "label" if pre.get("table") else "label")
        for row, label in zip(rows, labels, strict=True):
            row.append(label)
    summary = f"Predicted {len(ids)} sample{'s' * (len(ids) != 1)}"
    if labels is not None and predicted is not None and task != "multilabel" and ids:
        right = sum(p == str(t) for p, t in zip(predicted, labels, strict=True))
        summary += f"; accuracy {right / len(ids):.4f} against the labels in the data"
    return header, rows, summary


def several_outputs_table(ids, arrays, outputs, labels):
    """(header, rows, summary) of a model with several outputs: per output, named after it,
    NAME (the predicted class) and NAME_p(CLASS) per class, or NAME (the predicted value); then
    NAME_true for each target column the data holds (`labels`, by name)."""
    first = "file" if ids and not ids[0].isdigit() else "row"
    header, columns, scores = [first], [], []
    labels = labels if isinstance(labels, dict) else {}
    for info, out in zip(outputs, arrays, strict=True):
        name, task, truth = info["name"], info["task"], labels.get(info["name"])
        if task != "regression" and out.shape[1] == 1 and len(info["classes"]) > 2:
            task = "regression"
        if task == "regression":
            header.append(name)
            columns.append([[f"{v:.6g}"] for v in out[:, 0]])
            if truth is not None:
                values = np.array([number_or_nan(t) for t in truth], dtype=np.float64)
                known = np.isfinite(values)
                if known.any():
                    error = np.abs(out[known, 0] - values[known]).mean()
                    scores.append(f"{name} mean absolute error {error:.4f}")
            continue
        classes, probabilities, predicted = class_columns(out, list(info["classes"]), task)
        header += [name, *(f"{name}_p({c})" for c in classes)]
        columns.append(
            [[label, *(f"{p:.6f}" for p in row)]
             for label, row in zip(predicted, probabilities, strict=True)]
        )
        if truth is not None and task != "multilabel":
            pairs = [
                (p, str(t)) for p, t in zip(predicted, truth, strict=True)
                if str(t).strip() not in ("", "nan", "None")
            ]
            if pairs:
                right = sum(p == t for p, t in pairs)
                scores.append(f"{name} accuracy {right / len(pairs):.4f}")
    for info in outputs:
        if labels.get(info["name"]) is not None:
            header.append(info["name"] + "_true")
            columns.append([[t] for t in labels[info["name"]]])
    rows = [[i] for i in ids]
    for cells in columns:
        for row, more in zip(rows, cells, strict=True):
            row.extend(more)
    names = ", ".join(info["name"] for info in outputs)
    summary = f"Predicted {len(ids)} sample{'s' * (len(ids) != 1)} for the outputs {names}"
    if scores:
        summary += "; against the data's own values: " + ", ".join(scores)
    return header, rows, summary


def number_or_nan(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def predict(data_path, out_path=None):
    """Predict on raw data; write one row per sample (one_output_table, or for a model with
    several outputs several_outputs_table)."""
    model, task, classes, pre = load_trained_model()
    ids, x, labels = read_for_prediction(Path(data_path), pre, classes)
    several = trained_outputs()
    if several:
        header, rows, summary = several_outputs_table(ids, run_outputs(model, x), several, labels)
    else:
        outputs = run_model(model, x)
        header, rows, summary = one_output_table(ids, outputs, task, classes, pre, labels)
    if out_path is None:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        print(summary + ".", file=sys.stderr)
        return
    with open(out_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{summary}. Wrote {out_path}.")
'''


LABEL_TEXT = r'''
def label_text(value):
    """A true label as the predictions file shows it: whole numbers without ".0"."""
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text
'''

READ_CSV = r'''
def read_csv_rows(path):
    """A CSV's header and data rows as text (comma, semicolon or tab, as the header line
    shows), with each row's number as a spreadsheet shows it (the header is row 1)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(f"{path}: is not UTF-8 text; save it as UTF-8 CSV.") from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if Path(path).suffix.lower() == ".tsv" else max(",;\t", key=first.count)
    if not first.count(delimiter):
        delimiter = ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise Problem(f"{path}: is not valid CSV ({exc}).") from None
    if not rows or not rows[0]:
        raise Problem(f"{path}: is empty; a CSV needs a header row and at least one data row.")
    header = [h.strip() for h in rows[0]]
    body, numbers = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue  # a blank line: skipped, and the rows keep their numbers
        if len(row) != len(header):
            raise Problem(
                f"{path}: row {number} has {len(row)} fields but the header has {len(header)}."
            )
        body.append(row)
        numbers.append(number)
    if not body:
        raise Problem(f"{path}: has a header but no data rows.")
    return header, body, numbers


def is_missing(cell):
    return cell.strip() in MISSING


def numbers_in(cells, path, column, numbers):
    """A column's cells as float64, NaN where a value is missing (or not finite)."""
    values = np.full(len(cells), np.nan)
    for i, cell in enumerate(cells):
        if is_missing(cell):
            continue
        try:
            values[i] = float(cell)
        except ValueError:
            raise Problem(
                f"{Path(path).name}: row {numbers[i]}, column {column!r} holds the text "
                f"{cell!r} where a number belongs; correct it, or leave it empty."
            ) from None
    values[~np.isfinite(values)] = np.nan
    return values
'''

READ_TABLE = r'''
def read_table_for_prediction(path, pre):
    """The model's raw inputs from a CSV: numbers as floats (NaN where missing), categories and
    texts as strings; the target column's labels when the CSV has it."""
    header, rows, numbers = read_csv_rows(path)
    absent = [r["column"] for r in pre["inputs"] if r["column"] not in header]
    if absent:
        raise Problem(
            f"{path.name}: lacks the column{'s' * (len(absent) > 1)} "
            f"{', '.join(repr(c) for c in absent[:5])}, which the model was trained on."
        )
    x = {}
    for r in pre["inputs"]:
        j = header.index(r["column"])
        cells = [row[j] for row in rows]
        if r["kind"] == "numeric":
            values = numbers_in(cells, path, r["column"], numbers).astype(np.float32)
        else:
            values = np.array(["" if is_missing(c) else c for c in cells], dtype=object)
        x[r["name"]] = values[:, None]
    labels = None
    if isinstance(pre.get("target"), list):  # several target columns: a dict of them
        found = {t: [label_text(row[header.index(t)]) for row in rows]
                 for t in pre["target"] if t in header}  # fmt: skip
        labels = found or None
    elif pre.get("target") in header:
        j = header.index(pre["target"])
        labels = [label_text(row[j]) for row in rows]
    return [str(n) for n in numbers], x, labels
'''

READ_IMAGES = r'''
def read_images_for_prediction(path, pre):
    """One image file, or a folder of them (in class subfolders: their names are the labels),
    read at the model's size and colour mode as raw pixel values 0-255."""
    size = (int(pre["image"]["height"]), int(pre["image"]["width"]))
    labels = None
    if path.is_file():
        files = [str(path)]
    else:
        by_class = {}
        for folder in sorted(p for p in path.iterdir() if p.is_dir()):
            found = sorted(str(f) for f in folder.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
            if found:
                by_class[folder.name] = found
        if by_class:
            files = [f for found in by_class.values() for f in found]
            labels = [c for c, found in by_class.items() for _ in found]
        else:
            files = sorted(str(f) for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise Problem(f"{path}: holds no images (png, jpg, gif or bmp).")
    images = []
    for f in files:
        try:
            image = keras.utils.load_img(
                f, color_mode=pre["image"]["color_mode"], target_size=size, interpolation="bilinear"
            )
        except Exception as exc:  # the imaging library's errors do not name the file
            raise Problem(f"{f}: is not a readable image ({type(exc).__name__}).") from None
        images.append(keras.utils.img_to_array(image, dtype="float32"))
    return files, np.stack(images), labels
'''

READ_NPZ = r'''
def read_npz_for_prediction(path, classes):
    """The array "x" of an .npz file (x_test, x_val or x_train when it has no "x"), and the
    labels in its "y" when there are as many."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as exc:
        raise Problem(f"{path}: is not a readable NumPy .npz file ({exc}).") from None
    x = next((arrays[k] for k in ("x", "x_test", "x_val", "x_train") if k in arrays), None)
    if x is None:
        raise Problem(f'{path.name}: has no array "x" to predict on.')
    y = next((arrays[k] for k in ("y", "y_test", "y_val", "y_train") if k in arrays), None)
    labels = None
    if y is not None and len(y) == len(x):
        y = np.asarray(y).reshape(len(y), -1)[:, 0]
        if classes and y.dtype.kind in "iu":
            labels = [classes[int(v)] if 0 <= int(v) < len(classes) else str(v) for v in y]
        else:
            labels = [label_text(v) for v in y]
    x = np.asarray(x, dtype=np.int32 if np.asarray(x).dtype.kind in "iu" else np.float32)
    return [str(i) for i in range(len(x))], x, labels
'''

READ_WINDOWS = r'''
def read_windows_for_prediction(path, pre):
    """A time-series CSV cut into every window of the model's length; each window is named by
    the row number of its last row (the prediction is for `horizon` rows after it)."""
    window, width = pre["inputs"][0]["shape"]
    header, rows, numbers = read_csv_rows(path)
    columns = {h: [row[j] for row in rows] for j, h in enumerate(header)}
    names = DATASET.get("features") or [
        h for h in header if column_kind(columns[h], None, path, h, numbers)[0] == "numeric"
    ]
    absent = [n for n in names if n not in header]
    if absent or len(names) != width:
        raise Problem(
            f"{path.name}: the model takes {width} feature columns per row, but this file has "
            f"{len(names) - len(absent)} of them ({', '.join(repr(n) for n in names[:6])})."
        )
    values = np.stack([numbers_in(columns[n], path, n, numbers) for n in names], axis=1)
    if np.isnan(values).any():
        values = forward_fill(values)
    count = len(values) - window + 1
    if count <= 0:
        raise Problem(f"{path.name}: has {len(values)} rows, fewer than one window of {window}.")
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)
    x = np.ascontiguousarray(view[:count].transpose(0, 2, 1)).astype(np.float32)
    return [str(numbers[i + window - 1]) for i in range(count)], x, None
'''


def dispatch(readers: set[str]) -> str:
    """``read_for_prediction``: the data file to the model's input, by the kinds of data this
    project's model takes (`readers`: "table", "windows", "images", "npz")."""
    lines = [
        "",
        "def read_for_prediction(path, pre, classes):",
        '    """(ids, the model\'s input, the true labels or None) from data as you have it."""',
        "    if not path.exists():",
        '        raise Problem(f"{path}: no such file or folder.")',
        "    suffix = path.suffix.lower()",
    ]
    if "table" in readers or "windows" in readers:
        reader = (
            "read_table_for_prediction" if "table" in readers else "read_windows_for_prediction"
        )
        lines += [
            "    if path.is_file() and suffix in CSV_SUFFIXES:",
            f"        return {reader}(path, pre)",
        ]
    if "images" in readers:
        lines += [
            "    if path.is_dir() or suffix in IMAGE_SUFFIXES:",
            '        if not pre.get("image"):',
            '            raise Problem(f"{path}: this model does not take images.")',
            "        return read_images_for_prediction(path, pre)",
        ]
    lines += [
        '    if suffix == ".npz":',
        "        return read_npz_for_prediction(path, classes)",
        '    raise Problem(f"{path}: cannot tell what kind of data this is; give {DATA_HELP}.")',
    ]
    return "\n".join(lines) + "\n"


MAIN = r'''
def describe():
    """No command: the network's layers, and whether trained weights are beside this script."""
    build_network().summary()
    state = f"trained weights: {WEIGHTS}" if WEIGHTS.is_file() else NOT_TRAINED
    print(state)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=SCRIPT,
        description="Train this Keras model, or predict with it on raw data.",
        epilog=f"DATA for predict: {DATA_HELP}.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = commands.add_parser("predict", help="predict on raw data with the trained weights")
    p.add_argument("data", help=DATA_HELP)
    p.add_argument("-o", "--output", help="write the predictions to this CSV (default: print)")
    t = commands.add_parser("train", help="train from scratch with the project's settings")
    t.add_argument("data", nargs="?", help="train on this data instead of the project's")
    t.add_argument("--epochs", type=int, help="train for this many epochs instead")
    args = parser.parse_args(argv)
    try:
        if args.command == "predict":
            predict(args.data, args.output)
        elif args.command == "train":
            if args.epochs is not None and args.epochs < 1:
                raise Problem(f"--epochs must be a whole number from 1, not {args.epochs}.")
            train(args.data, args.epochs)
        else:
            describe()
            parser.print_usage()
    except Problem as exc:
        sys.exit(f"{SCRIPT}: {exc}")
    except OSError as exc:
        sys.exit(f"{SCRIPT}: {exc.filename or 'a file'}: {exc.strerror or exc}")


if __name__ == "__main__":
    main()
'''
