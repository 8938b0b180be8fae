"""The data half of a generated program: each source's data read as the user has it, split as
deepgui splits it (the same fractions, seed and stratification), and the preprocessing's raw
inputs described with their constants learned on the training split (numeric statistics,
StringLookup.adapt, TextVectorization.adapt), in the form deepgui's signature uses.

Kept as text, like codegen_model.py and for the same reasons: the script must not need deepgui.
Every part mirrors its loader in deepgui/core/data/ (tabular.py, table.py, arrays.py, images.py,
timeseries.py, keras_sets.py, split.py, labels.py), so a script trained on a run's data learns
the constants deepgui learned. `load_data(data_path)` returns a dict: "preprocessing" (raw
inputs, not yet applied), "task", "classes", and "train", "validation", "test" as (raw x, y) or
None.
"""

from __future__ import annotations

import json
import textwrap

COMMON = r'''
def resolve(value, what):
    """A path named in DATASET: relative paths are read from the project's folder (BASE)."""
    if not value:
        raise Problem(f"The project names no {what}; give the data: python {SCRIPT} train DATA.")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = BASE / path
    if not path.exists():
        raise Problem(f"{path}: no such file or folder; give the data: python {SCRIPT} train DATA.")
    return path


def split_indices(n, validation, test, labels=None, what="the data"):
    """Rows for training, validation and test, as deepgui splits them: stratified by class
    (each class in the same share everywhere) when shuffled, else the last rows held out."""
    shuffle, seed = DATASET.get("shuffle", True), DATASET.get("seed", 42)
    n_test, n_val = int(round(n * test)), int(round(n * validation))
    if not shuffle:
        rows = np.arange(n)
        n_train = n - n_val - n_test
        train, val, tst = rows[:n_train], rows[n_train : n_train + n_val], rows[n_train + n_val :]
    elif labels is not None and np.ndim(labels) == 1:
        # Each class's shuffled members spread evenly over (0, 1), then all ordered by that
        # position: any prefix holds every class in its share.
        rng = np.random.default_rng(seed)
        position = np.empty(n)
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            position[members] = (np.arange(len(members)) + rng.random()) / len(members)
        rows = np.argsort(position)
        tst, val = rows[:n_test], rows[n_test : n_test + n_val]
        train = rng.permutation(rows[n_test + n_val :])
    else:
        rows = np.random.default_rng(seed).permutation(n)
        tst, val, train = rows[:n_test], rows[n_test : n_test + n_val], rows[n_test + n_val :]
    if len(train) == 0:
        raise Problem(f"{what} has only {n} samples: too few to keep any for training.")
    if validation > 0 and len(val) == 0:
        raise Problem(f"{what} has only {n} samples: too few for a validation split.")
    return train, val, tst


def class_name(value):
    return str(value) if isinstance(value, (str, np.str_)) else label_text(value)


def encode_labels(values, task=None, classes=None, what="the target"):
    """(labels, task, class names) as deepgui decides: text, or at most 20 distinct whole
    numbers, are classes (class indices as labels), other numbers a regression; one 0/1 column
    per class is multi-label unless each row has exactly one 1."""
    y = np.asarray(values)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        y = y.astype(np.float32)
        binary = bool(np.isin(y, (0.0, 1.0)).all())
        names = list(classes or [str(i) for i in range(y.shape[1])])
        if task == "regression" or (task is None and not binary):
            return y, "regression", []
        if task == "multilabel" or (task is None and not np.all(y.sum(axis=1) == 1)):
            return y, "multilabel", names
        task = task or ("binary" if y.shape[1] == 2 else "multiclass")
        return y.argmax(axis=1).astype(np.int32), task, names
    text = y.dtype.kind in "USO"
    if text and y.dtype.kind == "O":
        y = y.astype(str)
    if not text and not np.isfinite(y.astype(np.float64)).all():
        raise Problem(f"{what} holds NaN or infinite labels; remove or fill them.")
    if task is None and not text and not classes:
        whole = bool(np.all(np.mod(y, 1) == 0))
        if not whole or len(np.unique(y)) > 20:
            task = "regression"
    if task == "regression":
        if text:
            raise Problem(f"{what} holds text, so it cannot be a regression target.")
        return y.astype(np.float32), "regression", []
    if classes and not text and not all(is_number(c) for c in classes):
        if np.all(np.mod(y, 1) == 0) and y.min() >= 0 and y.max() < len(classes):
            task = task or ("binary" if len(classes) == 2 else "multiclass")
            return y.astype(np.int32), task, list(classes)  # the label is the class's index
        raise Problem(f"{what} holds labels outside 0..{len(classes) - 1}.")
    found, inverse = np.unique(y, return_inverse=True)
    names = [class_name(v) for v in found]
    classes = list(classes) if classes else names
    index = {c: i for i, c in enumerate(classes)}
    unknown = [n for n in names if n not in index]
    if unknown:
        raise Problem(f"{what} has the label {unknown[0]!r}, which is not among the classes.")
    if len(classes) < 2:
        raise Problem(f"{what} has only one class ({classes[0]!r}); a classifier needs two.")
    task = task or ("binary" if len(classes) == 2 else "multiclass")
    lookup = np.array([index[n] for n in names], dtype=np.int64)
    return lookup[inverse.reshape(-1)].astype(np.int32), task, classes


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def array_preprocessing(shape, name, scale=None, offset=None, dtype="float32", image=None):
    """One array input (images, windows, arrays): rescaled, or passed as it is; an image of
    any size is resized to the data set's size inside the model."""
    dims = [int(d) for d in shape]
    resize = None
    if image is not None and len(dims) == 3:
        resize, dims = dims[:2], [None, None, dims[2]]
    raw = {
        "name": name, "kind": "array", "shape": dims, "dtype": dtype,
        "column": None, "fill": None, "scale": scale, "offset": offset, "vocabulary": [],
        "one_hot": True, "sequence_length": 0, "resize": resize,
    }  # fmt: skip
    return {
        "inputs": [raw], "groups": [{"name": name, "inputs": [name]}],
        "table": False, "image": image, "target": None,
    }  # fmt: skip


def split_data(x, y, task, classes, pre, given=None, what="the data"):
    """The dict load_data returns: `x`, `y` split by DATASET's fractions, except where `given`
    holds a separate validation or test set ((x, y) by "validation" / "test")."""
    given = given or {}
    rows = split_indices(
        len(y),
        0.0 if "validation" in given else DATASET.get("validation_split", 0.2),
        0.0 if "test" in given else DATASET.get("test_split", 0.0),
        labels=y if task in ("multiclass", "binary") else None,
        what=what,
    )
    out = {"preprocessing": pre, "task": task, "classes": list(classes)}
    for key, part in zip(("train", "validation", "test"), rows, strict=True):
        if key in given:
            out[key] = given[key]
        elif len(part) or key == "train":
            pick = {k: v[part] for k, v in x.items()} if isinstance(x, dict) else x[part]
            out[key] = (pick, y[part])
        else:
            out[key] = None
    return out
'''

COLUMNS = r'''
def column_kind(cells, kind, path, column, numbers):
    """(kind, values, missing) of a CSV column, as deepgui types it: numbers (float64, NaN
    where missing) when every present cell is one; else categories (few distinct strings) or
    text (many distinct, or several words each). `kind` forces the choice."""
    missing = np.array([is_missing(c) for c in cells], dtype=bool)
    if kind in (None, "numeric"):
        values = np.full(len(cells), np.nan)
        bad = []
        for i, cell in enumerate(cells):
            if not missing[i]:
                try:
                    values[i] = float(cell)
                except ValueError:
                    bad.append(i)
        present = int((~missing).sum())
        if not bad or kind == "numeric" or len(bad) <= present / 2:
            values = numbers_in(cells, path, column, numbers)  # says where the text is
            return "numeric", values, ~np.isfinite(values)
    distinct = sorted({c for c, m in zip(cells, missing, strict=True) if not m})
    if kind is None:
        words = np.mean([c.strip().count(" ") + 1 for c in distinct[:2000]]) if distinct else 0
        many = len(distinct) > 50 and len(distinct) > 0.2 * max(int((~missing).sum()), 1)
        kind = "text" if words >= 3 or many else "category"
    strings = np.array(["" if m else c for c, m in zip(cells, missing, strict=True)], dtype=object)
    return kind, strings, missing
'''

TABLE = r'''
def safe_input_name(column, taken):
    """A column name made safe as a model input name, unique among `taken`."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", str(column)).strip("_") or "column"
    if not base[0].isalpha():
        base = "c_" + base
    name, i = base, 2
    while name.lower() in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name.lower())
    return name


def target_columns():
    """The target column, or the target columns of a model with one output per column."""
    target = DATASET.get("target")
    if isinstance(target, list):
        return list(target)
    return [target] if target else []


def read_table(path, kinds=None):
    """(feature names, {column: (kind, values, missing)}) of a CSV: the target and feature
    columns typed (or as `kinds` says), with rows that have gaps handled as DATASET says:
    "fill" leaves out rows without a target (the model fills features), "drop" every row with
    a gap, "refuse" reports them."""
    header, rows, numbers = read_csv_rows(path)
    targets = target_columns()
    chosen = dict(DATASET.get("columns") or {})
    if not targets:
        raise Problem(f'{path.name}: the project names no target column (dataset field "target").')
    for name in [*targets, *chosen]:
        if name not in header:
            shown = ", ".join(repr(h) for h in header[:12])
            raise Problem(f"{path.name} has no column {name!r}; its columns are {shown}.")
    features = [h for h in header if h not in targets and chosen.get(h) != "ignore"]
    if not features:
        shown = ", ".join(repr(t) for t in targets)
        raise Problem(f"{path.name}: has no columns besides the target {shown} to learn from.")
    kinds = kinds or {h: chosen.get(h) for h in features}
    typed = {
        h: column_kind([row[header.index(h)] for row in rows], kinds.get(h), path, h, numbers)
        for h in [*features, *targets]
    }
    policy = DATASET.get("missing", "fill")
    bad, where, total = np.zeros(len(rows), dtype=bool), [], 0
    for h, (kind, _, missing) in typed.items():
        if (kind == "text" and h not in targets) or not missing.any():
            continue  # an empty text is still a text
        total += int(missing.sum())
        where += [f"row {numbers[i]} column {h!r}" for i in np.flatnonzero(missing)[:5]]
        if policy == "drop" or h in targets:
            bad |= missing
    if total and policy in ("refuse", "error"):
        more = f" and {total - 5} more" if total > 5 else ""
        raise Problem(f"{path.name}: {total} values are missing ({', '.join(where[:5])}{more}).")
    if bad.all():
        raise Problem(f"{path.name}: every row has a missing value, so none is left.")
    keep = np.flatnonzero(~bad)
    return features, {h: (k, v[keep], m[keep]) for h, (k, v, m) in typed.items()}


def fit_table(features, typed, rows, target):
    """The raw inputs, one per feature column, with their constants learned on the training
    rows: a numeric column's median (for gaps), mean and deviation (x * scale + offset
    standardizes it); a category's values (StringLookup.adapt); a text's words
    (TextVectorization.adapt)."""
    taken, inputs = set(), []
    length = DATASET.get("sequence_length", 64)
    for h in features:
        kind, values, missing = typed[h]
        r = {
            "name": safe_input_name(h, taken), "kind": kind, "shape": [1],
            "dtype": "float32" if kind == "numeric" else "string", "column": h, "fill": None,
            "scale": None, "offset": None, "vocabulary": [], "one_hot": True, "sequence_length": 0,
            "resize": None,
        }  # fmt: skip
        if kind == "numeric":
            present = values[rows][np.isfinite(values[rows])]
            r["fill"] = float(np.median(present)) if len(present) else 0.0
            if STANDARDIZE and len(present):
                mean, std = float(present.mean()), float(present.std())
                if not (math.isfinite(mean) and math.isfinite(std)):
                    mean, std = 0.0, float(np.abs(present).max())  # beyond float range
                std = std if std > 1e-12 else 1.0  # a constant column stays 0
                r["scale"], r["offset"] = 1.0 / std, -mean / std
        elif kind == "category":
            present = values[rows][~missing[rows]].astype(str)
            lookup = layers.StringLookup(num_oov_indices=1)
            if len(present):
                lookup.adapt(present)
            # Sorted, as deepgui orders them, so that a run's constants and these agree.
            found = lookup.get_vocabulary(include_special_tokens=False) if len(present) else []
            r["vocabulary"] = sorted(str(v) for v in found)
            r["one_hot"] = len(r["vocabulary"]) <= MAX_ONE_HOT
        else:
            words = layers.TextVectorization(
                max_tokens=DATASET.get("max_tokens", 20000),
                output_mode="int",
                output_sequence_length=length,
            )
            words.adapt(values[rows].astype(str), batch_size=4096)
            r["vocabulary"] = [str(w) for w in words.get_vocabulary(include_special_tokens=False)]
            r["sequence_length"] = length
        inputs.append(r)
    groups = [{"name": r["column"], "inputs": [r["name"]]} for r in inputs if r["kind"] == "text"]
    tabular = [r["name"] for r in inputs if r["kind"] != "text"]
    if tabular:
        groups.append({"name": "features", "inputs": tabular})
    return {"inputs": inputs, "groups": groups, "table": True, "image": None, "target": target}


def load_data(data_path=None):
    """The CSV's columns as the model's raw inputs (one per feature column, by name), split.
    Several target columns (one per model output) give labels as a dict by column, the task
    "multioutput" and "outputs": each target's name, task and classes."""
    path = Path(data_path).resolve() if data_path else resolve(DATASET.get("path"), "CSV file")
    targets = target_columns()
    one = len(targets) == 1
    features, typed = read_table(path)
    found = {}  # target -> (labels, task, classes)
    for target in targets:
        found[target] = encode_labels(
            typed[target][1],
            DATASET.get("task") if one else None,
            DATASET.get("class_names") if one else None,
            what=f"{path.name} column {target!r}",
        )
    given = {}
    for key, field in (("validation", "validation_path"), ("test", "test_path")):
        if DATASET.get(field) and not data_path:
            other = resolve(DATASET[field], f'file in "{field}"')
            kinds = {h: typed[h][0] for h in features}
            for target in targets:
                kinds[target] = "numeric" if typed[target][0] == "numeric" else "category"
            _, other_typed = read_table(other, kinds)
            labels = {
                t: encode_labels(other_typed[t][1], found[t][1], found[t][2], what=other.name)[0]
                for t in targets
            }
            given[key] = (other_typed, labels[targets[0]] if one else labels)
    classified = [t for t in targets if found[t][1] in ("multiclass", "binary")]
    train = split_indices(
        len(found[targets[0]][0]),
        0.0 if "validation" in given else DATASET.get("validation_split", 0.2),
        0.0 if "test" in given else DATASET.get("test_split", 0.0),
        labels=found[classified[0]][0] if classified else None,  # stratified by the first
        what=path.name,
    )
    pre = fit_table(features, typed, train[0], targets[0] if one else targets)
    if one:
        y, task, classes = found[targets[0]]
    else:
        y = {t: found[t][0] for t in targets}
        task, classes = "multioutput", []

    def raw(columns, rows):
        x = {}
        for r in pre["inputs"]:
            kind, values, _ = columns[r["column"]]
            values = values if rows is None else values[rows]
            x[r["name"]] = (values.astype(np.float32 if kind == "numeric" else object))[:, None]
        return x

    def labels_of(rows):
        return {t: v[rows] for t, v in y.items()} if isinstance(y, dict) else y[rows]

    out = {"preprocessing": pre, "task": task, "classes": classes}
    if not one:
        out["outputs"] = [
            {"name": t, "task": found[t][1], "classes": list(found[t][2])} for t in targets
        ]
    for key, rows in zip(("train", "validation", "test"), train, strict=True):
        if key in given:
            out[key] = (raw(given[key][0], None), given[key][1])
        else:
            out[key] = (raw(typed, rows), labels_of(rows)) if len(rows) or key == "train" else None
    return out
'''

ARRAYS = r'''
def read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as exc:
        raise Problem(f"{path}: is not a readable NumPy .npz file ({exc}).") from None


def as_features(x, what):
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise Problem(f"{what} holds {x.dtype} values; features must be numbers.")
    x = (x[:, None] if x.ndim < 2 else x).astype(np.float32)
    if not np.isfinite(x).all():
        raise Problem(f"{what} has NaN or infinite values; clean or fill them.")
    return x


def load_data(data_path=None):
    """Arrays x and y (or x_train, y_train and maybe x_val, y_val, x_test, y_test)."""
    path = Path(data_path).resolve() if data_path else resolve(DATASET.get("path"), "NumPy file")
    arrays = read_npz(path)
    if "x" in arrays and "y" in arrays:
        arrays["x_train"], arrays["y_train"] = arrays.pop("x"), arrays.pop("y")
    if "x_val" not in arrays and "x_validation" in arrays:
        arrays["x_val"], arrays["y_val"] = arrays.pop("x_validation"), arrays.pop("y_validation")
    if "x_train" not in arrays or "y_train" not in arrays:
        raise Problem(f'{path.name}: name the features "x" and the labels "y".')
    x, y = as_features(arrays["x_train"], path.name), arrays["y_train"]
    y, task, classes = encode_labels(
        y, DATASET.get("task"), DATASET.get("class_names"), what=f"{path.name} labels"
    )
    given = {}
    splits = (("validation", "val", "validation_path"), ("test", "test", "test_path"))
    for key, short, field in splits:
        if "x_" + short in arrays:
            pair, labels = arrays["x_" + short], arrays.get("y_" + short)
        elif DATASET.get(field) and not data_path:
            other = read_npz(resolve(DATASET[field], f'file in "{field}"'))
            pair = other.get("x", other.get("x_train"))
            labels = other.get("y", other.get("y_train"))
        else:
            continue
        if pair is None or labels is None:
            raise Problem(f"{path.name}: the {key} set needs both its arrays, x and y.")
        given[key] = (as_features(pair, path.name), encode_labels(labels, task, classes)[0])
    pre = array_preprocessing(x.shape[1:], "x", scale=ARRAY_SCALE)
    return split_data(x, y, task, classes, pre, given, what=path.name)
'''

IMAGES = r'''
def class_folders(root, least=2):
    """Image files per class subfolder, listed as deepgui lists them: every subfolder is a
    class named as it is (a leading dot too), its image files (regular files only) at any
    depth, folder by folder in sorted order."""
    import os  # only this reader walks folders

    if not root.is_dir():
        raise Problem(f"{root}: is not a folder of class subfolders with images.")
    classes = {}
    for name in sorted(p.name for p in root.iterdir() if p.is_dir()):
        files = []
        for folder, _, names in sorted(os.walk(os.path.join(root, name)), key=lambda w: w[0]):
            for n in sorted(names):
                path = os.path.join(folder, n)
                if n.lower().endswith(IMAGE_SUFFIXES) and os.path.isfile(path):
                    files.append(path)
        if files:
            classes[name] = files
    if len(classes) < least:
        raise Problem(
            f"{root}: needs at least {least} class subfolders with images, such as "
            f"{root.name}/cats/1.png and {root.name}/dogs/1.png."
        )
    return classes


def decode_image(raw, channels):
    """One image file's bytes as pixels with `channels` channels, decoded as deepgui decodes
    them: TensorFlow reads a GIF (a palette image) only as RGB, so a GIF is read as RGB and
    then made grayscale or given an opaque alpha channel; its first frame if animated."""
    import tensorflow as tf  # Keras's own image reading needs TensorFlow too

    def gif():
        image = tf.image.decode_image(raw, channels=3, expand_animations=False)
        if channels == 1:
            return tf.image.rgb_to_grayscale(image)
        if channels == 4:
            opaque = tf.fill(tf.shape(image[..., :1]), tf.constant(255, image.dtype))
            return tf.concat([image, opaque], -1)
        return image

    def other():
        return tf.image.decode_image(raw, channels=channels, expand_animations=False)

    return tf.cond(tf.equal(tf.strings.substr(raw, 0, 3), "GIF"), gif, other)


def read_image_folder(root, classes, size, mode, names):
    """All images under `root` as float32 pixel values 0-255 (resized as Keras resizes them),
    labels indexed into `names`."""
    import tensorflow as tf
    from tensorflow import io as tf_io

    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[mode]
    paths = [f for files in classes.values() for f in files]
    labels = [i for i, files in enumerate(classes.values()) for _ in files]

    def load(path):
        image = decode_image(tf_io.read_file(path), channels)
        image = tf.image.resize(image, size, method="bilinear")
        image.set_shape((size[0], size[1], channels))
        return image

    try:
        images = tf.data.Dataset.from_tensor_slices(paths).map(load).batch(512)
        xs = list(images.as_numpy_iterator())
    except Exception as exc:  # TensorFlow's decode errors do not name the file
        for f in paths:
            try:
                decode_image(tf_io.read_file(f), 3)
            except Exception:
                raise Problem(f"{f}: is not a readable image (corrupt or truncated).") from None
        raise Problem(f"{root}: the images could not be read ({type(exc).__name__}).") from None
    remap = np.array([names.index(c) for c in classes], dtype=np.int32)
    return np.concatenate(xs).astype(np.float32), remap[np.asarray(labels, dtype=np.int64)]


def first_image(path):
    """The first image's height, width and channels, as deepgui reads them when neither the
    project nor the network says."""
    from tensorflow import io as tf_io

    try:
        shape = tf_io.decode_image(tf_io.read_file(path), expand_animations=False).shape
    except Exception:  # TensorFlow's decode errors do not name the file
        raise Problem(f"{path}: is not a readable image (empty or corrupt).") from None
    return int(shape[0]), int(shape[1]), int(shape[2])


def load_data(data_path=None):
    """A folder with one subfolder of images per class, read at the model's size."""
    root = Path(data_path).resolve() if data_path else resolve(DATASET.get("path"), "image folder")
    classes = class_folders(root)
    size, mode = DATASET.get("image_size"), DATASET.get("color_mode")
    if not size or not mode:  # the first image's
        height, width, channels = first_image(next(iter(classes.values()))[0])
        size = size or [height, width]
        mode = mode or ("grayscale" if channels == 1 else "rgb")
    size = (int(size[0]), int(size[1]))
    names = list(classes)
    x, y = read_image_folder(root, classes, size, mode, names)
    given = {}
    for key, field in (("validation", "validation_path"), ("test", "test_path")):
        if DATASET.get(field) and not data_path:
            other = resolve(DATASET[field], f'folder in "{field}"')
            found = class_folders(other, least=1)
            unknown = [c for c in found if c not in classes]
            if unknown:
                raise Problem(f"{other}: has the class folder {unknown[0]!r}, which {root} lacks.")
            given[key] = read_image_folder(other, found, size, mode, names)
    rescale = 1 / 255 if STANDARDIZE and DATASET.get("rescale", True) else None
    image = {"height": size[0], "width": size[1], "color_mode": mode}
    pre = array_preprocessing(x.shape[1:], "image", scale=rescale, image=image)
    task = "binary" if len(names) == 2 else "multiclass"
    return split_data(x, y, task, names, pre, given, what=str(root))
'''

TIMESERIES = r'''
def windows(values, target, window, horizon, stride=1):
    """(samples, window, features), and the target `horizon` rows after each window ends."""
    count = len(values) - window - horizon + 1
    if count <= 0:
        return np.zeros((0, window, values.shape[1]), np.float32), np.zeros(0, np.float32)
    starts = np.arange(0, count, stride)
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)
    x = np.ascontiguousarray(view[starts].transpose(0, 2, 1))
    return x, target[starts + window + horizon - 1].astype(np.float32)


def load_data(data_path=None):
    """A time-series CSV cut into windows of `window` rows of the feature columns, each
    labelled with the target `horizon` rows after it; split in time order."""
    path = Path(data_path).resolve() if data_path else resolve(DATASET.get("path"), "CSV file")
    header, rows, numbers = read_csv_rows(path)
    target = DATASET.get("target")
    if target not in header:
        raise Problem(f"{path.name} has no column {target!r} to forecast.")
    window, horizon = DATASET.get("window", 24), DATASET.get("horizon", 1)
    columns = {h: [row[j] for row in rows] for j, h in enumerate(header)}
    names = DATASET.get("features") or [
        h for h in header if column_kind(columns[h], None, path, h, numbers)[0] == "numeric"
    ]
    for name in names:
        if name not in header:
            raise Problem(f"{path.name} has no column {name!r}.")
    values = np.stack([numbers_in(columns[h], path, h, numbers) for h in names], axis=1)
    goal = numbers_in(columns[target], path, target, numbers)
    gaps = np.isnan(values).any(axis=1) | np.isnan(goal)
    if gaps.any():
        policy = DATASET.get("missing", "fill")
        if policy in ("refuse", "error"):
            raise Problem(f"{path.name}: {int(gaps.sum())} rows have missing values.")
        if policy == "drop":
            values, goal = values[~gaps], goal[~gaps]
        else:
            values, goal = forward_fill(values), forward_fill(goal[:, None])[:, 0]
    n = len(values)
    n_test = int(round(n * DATASET.get("test_split", 0.0)))
    n_val = int(round(n * DATASET.get("validation_split", 0.2)))
    bounds = [0, n - n_val - n_test, n - n_test, n]
    if bounds[1] < window + horizon:
        raise Problem(f"{path.name}: the training part has {bounds[1]} rows, too few for a window.")
    mean, std = values[: bounds[1]].mean(axis=0), values[: bounds[1]].std(axis=0)
    std[std < 1e-12] = 1.0
    parts = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        parts.append(windows(values[lo:hi].astype(np.float32), goal[lo:hi], window, horizon,
                             DATASET.get("stride", 1)))  # fmt: skip
    if DATASET.get("shuffle", True):  # training windows only; each window keeps its order
        order = np.random.default_rng(DATASET.get("seed", 42)).permutation(len(parts[0][1]))
        parts[0] = (parts[0][0][order], parts[0][1][order])
    scale = [float(1 / v) for v in std] if STANDARDIZE else None
    offset = [float(-m / v) for m, v in zip(mean, std, strict=True)] if STANDARDIZE else None
    pre = array_preprocessing((window, len(names)), "window", scale=scale, offset=offset)
    out = {"preprocessing": pre, "task": "regression", "classes": []}
    for key, (x, y) in zip(("train", "validation", "test"), parts, strict=True):
        out[key] = (x, y) if len(y) or key == "train" else None
    return out
'''

FORWARD_FILL = r'''
def forward_fill(values):
    """Each gap takes the last value before it (the first value after it at the very start)."""
    out = values.copy()
    for j in range(out.shape[1]):
        column, ok = out[:, j], np.isfinite(out[:, j])
        if not ok.any():
            raise Problem("A time-series column has no values at all; leave it out.")
        index = np.maximum.accumulate(np.where(ok, np.arange(len(column)), 0))
        filled = column[index]
        filled[: np.flatnonzero(ok)[0]] = column[np.flatnonzero(ok)[0]]
        out[:, j] = filled
    return out
'''

KERAS_SETS = r'''
def load_data(data_path=None):
    """One of Keras's data sets (downloaded once into ~/.keras): its test split kept as the
    test set, validation taken from its training part."""
    name = DATASET.get("name")
    if data_path:
        raise Problem(f"This project trains on Keras's {name} data set; it takes no DATA.")
    try:
        if name == "imdb":
            words = DATASET.get("num_words", 10000)
            (x, y), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=words)
        else:
            (x, y), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as exc:  # no connection, HTTP errors, a broken cache
        raise Problem(
            f"The Keras data set {name!r} could not be downloaded ({type(exc).__name__}: {exc})."
        ) from None
    if name == "imdb":
        length = DATASET.get("maxlen", 200)
        x = keras.utils.pad_sequences(x, maxlen=length).astype(np.int32)
        x_test = keras.utils.pad_sequences(x_test, maxlen=length).astype(np.int32)
        pre = array_preprocessing(x.shape[1:], "x", dtype="int32")
    else:
        x, x_test = (a.astype(np.float32) for a in (x, x_test))
        if x.ndim == 3:
            x, x_test = x[..., None], x_test[..., None]
        h, w, c = x.shape[1:]
        image = {"height": h, "width": w, "color_mode": "rgb" if c == 3 else "grayscale"}
        scale = 1 / 255 if STANDARDIZE else None
        pre = array_preprocessing(x.shape[1:], "image", scale=scale, image=image)
    y = np.asarray(y).reshape(-1).astype(np.int32)
    y_test = np.asarray(y_test).reshape(-1).astype(np.int32)
    task = "binary" if len(KERAS_CLASSES) == 2 else "multiclass"
    given = {"test": (x_test, y_test)}
    return split_data(x, y, task, KERAS_CLASSES, pre, given, what=name)
'''


def unsupported(reason: str) -> str:
    """``load_data`` for a project whose data this script cannot read: it says why."""
    pieces = textwrap.wrap(reason, 80, drop_whitespace=False)
    return "\n".join(
        [
            "def load_data(data_path=None):",
            '    """The project names no data this script can read; train needs it first."""',
            "    raise Problem(",
            *(f"        {json.dumps(p, ensure_ascii=False)}" for p in pieces),
            "    )",
        ]
    )
