"""The training configuration form. It shows the project's ``training`` dict and announces each
edit; the core (`parse_training`) decides what is valid, and its sentence is shown beside the
field it names.

What the form cannot edit field by field is shown as it is and kept as it is when another field
changes: a Keras schedule or a Keras loss object imported with a model, losses and metrics per
output. The optimizer's further arguments are one "name=value, ..." line.

The fields a sweep can vary (the optimizer, the learning rate, ...) have a ⟳ button; the form
announces a click as `vary_requested(field)`, and its owner opens the mark's editor."""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from deepgui.core import node_kinds
from deepgui.core.commands import REMOVE
from deepgui.core.errors import TrainingError
from deepgui.core.graph import Graph
from deepgui.core.training.config import (
    KERAS_SCHEDULE,
    METRIC_LABELS,
    OPTIMIZERS,
    OWN_FIELDS,
    SCHEDULES,
    SPARSE_TOP_K,
    STOPPING_MODES,
    TOP_K,
    EarlyStopping,
    FineTuning,
    TrainingConfig,
    field_of,
    is_serialized,
    metric_choices,
    parse_training,
    read_leniently,
    schedule_arguments,
)
from deepgui.core.training.distributed import make_cluster
from deepgui.core.training.engines import ENGINES, LABELS, Measurement, speeds_sentence
from deepgui.core.training.mirrored import TRUSTED_ONLY
from deepgui.ui.theme import status_color
from deepgui.ui.training.class_weights import ClassWeightsDialog
from deepgui.ui.training.fields import set_text, shown_after
from deepgui.ui.vary import VaryButton, with_vary_button

LOSSES = ["auto", "sparse_categorical_crossentropy", "categorical_crossentropy",
          "binary_crossentropy", "mse", "mae", "huber"]  # fmt: skip
MONITORS = ["val_loss", "loss", "val_accuracy", "accuracy"]
# Early stopping's mode in words, in the core's order (config.STOPPING_MODES).
STOPPING_MODE_WORDS = dict(
    zip(STOPPING_MODES, ("Automatic (from its name)", "Lower", "Higher"), strict=True)
)
ENGINE_LABELS = {"auto": "Automatic (the quickest for this run)", **LABELS}
# What the options line edits: each optimizer's own top-level fields (sgd's momentum, adam's
# weight_decay) and optimizer_options; the core's sentences about any of them show beside it.
OPTION_FIELDS = ("optimizer_options", *sorted({k for keys in OWN_FIELDS.values() for k in keys}))
OPTIONS_EXAMPLE = "beta_1=0.8, clipnorm=1.0"
SERIALIZED_LOSS = "serialized"  # the loss choice's data for a Keras loss object the project keeps
NO_BACKBONE = "Needs a backbone: add one from the Backbones palette."
WITH_BACKBONE = "Trains the head first, then the backbone's top layers."
STRANDED = "No backbone in the network: turn fine-tuning off."
_NOT_SETTINGS = ("name", "dtype")  # labels of a Keras object, not how it behaves
PER_CLASS = "per_class"  # the class-weight choice's data for a weight per class
CLASS_WEIGHT_CHOICES = (("None", "none"), ("Balanced", "balanced"), ("Per class…", PER_CLASS))


def _combo(items: list[str], editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.addItems(items)
    box.setEditable(editable)
    return box


def _spin(low: int, high: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    return box


def _real(low: float, high: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    return box


def _error_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {status_color(False)};")
    return label


def _say(label: QLabel, text: str) -> None:
    """Set a sentence beside a field; the label takes no room while there is none."""
    label.setText(text)
    label.setVisible(bool(text))
    # A QFormLayout goes on laying out a wrapped label at an earlier height until told again
    # once the edit's other changes are laid out (PySide6 6.11): a long sentence, such as the
    # arguments an optimizer takes, was cut off.
    parent = label.parentWidget()
    holder = _layout_holding(parent.layout(), label) if parent is not None else None
    if holder is not None:
        QTimer.singleShot(0, label, holder.invalidate)


def _layout_holding(layout, widget: QWidget):
    """The layout, `layout` or one nested in it, that holds `widget` itself."""
    if layout is None:
        return None
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item.widget() is widget:
            return layout
        found = _layout_holding(item.layout(), widget)
        if found is not None:
            return found
    return None


def weights_text(weights: dict[str, float]) -> str:
    """A weight per class in a few words: 'cat 2, dog 1'."""
    return ", ".join(f"{name} {weight:g}" for name, weight in weights.items())


def _metric_list(metrics: Any) -> list[str]:
    """The names a metrics setting lists ([] for "auto" or one per output)."""
    return list(metrics) if isinstance(metrics, list) else []


def _dict_at(settings: dict, key: str) -> dict:
    value = settings.get(key)
    return value if isinstance(value, dict) else {}


# ----------------------------------------------------------------------------- settings as text
# Values are written as Python writes them (0.8, True, 'sum'), as Keras's docs and a script do.
def _setting_text(value: Any) -> str:
    if is_serialized(value):
        return loss_text(value)
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _per_output_text(setting: dict[str, Any]) -> str:
    """Settings per output in a few words: 'per output: kind auto; price mae, mse'."""
    return "per output: " + "; ".join(f"{name} {_setting_text(v)}" for name, v in setting.items())


@functools.cache
def _loss_defaults(class_name: str) -> dict[str, Any]:
    """The config of Keras's loss class `class_name` built with its defaults; {} when this Keras
    cannot build it (every setting is then shown)."""
    from deepgui.core.keras_layers import keras

    try:
        return getattr(keras().losses, class_name)().get_config()
    except Exception:  # noqa: BLE001 - a class this Keras lacks: nothing to compare with
        return {}


def loss_text(loss: dict[str, Any]) -> str:
    """A Keras loss object in a few words: its class and the settings that differ from the
    class's defaults ('SparseCategoricalCrossentropy, from_logits=True')."""
    name = str(loss["class_name"])
    defaults = _loss_defaults(name)
    changed = [f"{k}={v!r}" for k, v in loss["config"].items()
               if k not in _NOT_SETTINGS and (k not in defaults or defaults[k] != v)]  # fmt: skip
    return ", ".join([name, *changed])


def schedule_text(schedule: dict[str, Any]) -> str:
    """A Keras schedule as its class and its arguments, those at their defaults left out:
    'ExponentialDecay(initial_learning_rate=0.01, decay_steps=1000, decay_rate=0.9)'."""
    name = str(schedule["class_name"])
    defaults = schedule_arguments(name) or {}
    shown = [f"{k}={v!r}" for k, v in schedule["config"].items()
             if k not in _NOT_SETTINGS and defaults.get(k, inspect.Parameter.empty) != v]  # fmt: skip
    return f"{name}({', '.join(shown)})"


def options_text(training: dict[str, Any], optimizer: str) -> str:
    """The optimizer's settings beyond its rate as one line: the fields of its own that the
    project sets (sgd's momentum, nesterov), then its optimizer_options."""
    shown = {k: training[k] for k in OWN_FIELDS.get(optimizer, ()) if training.get(k) is not None}
    shown.update(_dict_at(training, "optimizer_options"))
    return ", ".join(f"{k}={v!r}" for k, v in shown.items())


def parse_options(text: str) -> dict[str, Any]:
    """'beta_1=0.8, clipnorm=1.0' -> {"beta_1": 0.8, "clipnorm": 1.0}; ValueError, one sentence,
    for a part that is not name=value. The values are only read here: the core checks them
    against the optimizer's signature."""
    out = {}
    for part in _top_level_parts(text):
        name, equals, value = (s.strip() for s in part.partition("="))
        if not (equals and name.isidentifier() and value):
            raise ValueError(f"Write each option as name=value, separated by commas (e.g. "
                             f"{OPTIONS_EXAMPLE}), not {part.strip()!r}.")  # fmt: skip
        out[name] = _option_value(value)
    return out


def _top_level_parts(text: str) -> list[str]:
    """`text` cut at the commas outside brackets and quotes (a list value keeps its commas)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _option_value(text: str) -> Any:
    """A Python literal (0.8, True, None, [0.9, 0.99], 'sum'), JSON's true/false/null, or
    else the word itself as text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    return {"true": True, "false": False, "null": None, "none": None}.get(text.lower(), text)


# ----------------------------------------------------------------------------- the core's reading
def applied(training: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`training` with the form's changes made (REMOVE takes a key out)."""
    return {k: v for k, v in {**training, **changes}.items() if v is not REMOVE}


def _fine_tuning_as_written(training: dict[str, Any]) -> FineTuning:
    """A fine-tuning section the core refused as a whole (frozen epochs not below the epochs):
    its numbers as the core reads them, so the form shows what the project holds."""
    section = _dict_at(training, "fine_tuning")
    try:
        read = parse_training({"fine_tuning": {**section, "enabled": False}}).fine_tuning
    except TrainingError:
        return FineTuning()
    read.enabled = section.get("enabled") is True
    return read


def holds_backbone(graph: Graph | None) -> bool:
    """Whether the network has something to fine-tune: a node the core calls a backbone (from
    the palette) or a block (a model used as a layer)."""
    kinds = (node_kinds.BLOCK, node_kinds.BACKBONE)
    return graph is not None and any(node_kinds.kind(node) in kinds for node in graph)


def _stacked(*items: QWidget | QHBoxLayout | QGridLayout) -> QWidget:
    """Items one above the other in one form cell (a field and the sentence about it)."""
    cell = QWidget()
    column = QVBoxLayout(cell)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    for item in items:
        if isinstance(item, QWidget):
            column.addWidget(item)
        else:
            column.addLayout(item)
    return cell


class TrainingForm(QWidget):
    """Shows project.training; each edit the user makes is announced as `edited` (the keys that
    change and their new values, REMOVE for a key taken out). The form never writes the
    project: its owner turns the edit into an undoable command, and `show_field` shows again
    the one field an undo changed."""

    edited = Signal(dict)
    measure_requested = Signal()  # the user asked for each engine's speed on this model
    vary_requested = Signal(str)  # the ⟳ of a field was clicked: edit its mark for a sweep

    def __init__(self, parent=None, get_graph: Callable[[], Graph | None] | None = None) -> None:
        super().__init__(parent)
        # The network, asked at each load whether it holds a backbone to fine-tune.
        self.get_graph = get_graph or (lambda: None)
        self.training: dict[str, Any] = {}
        # Which of loss and metrics the project gives per output (shown, not edited here).
        self._per_output = {"loss": False, "metrics": False}
        # A Keras loss object the project has: (the words the loss choice shows, the object).
        self._kept_loss: tuple[str, dict[str, Any]] | None = None
        self._options_problem = ""  # why the options line cannot be read, or ""
        # The loaded data's task and class names (set_data): which metrics fit, which classes
        # are weighed; None until the data is known.
        self.task: str | None = None
        self.classes: list[str] = []
        # The weight per class the form holds: the project's, or the table's once accepted.
        self._weights: dict[str, float] = {}
        self.class_weight_dialog: ClassWeightsDialog | None = None  # while it is open
        self._shown: dict[str, Any] = {}  # the form's values as last loaded or sent
        self._loading = False
        # The settings of the project a measurement in flight is for: its answer is shown only
        # while that project is (speeds belong to the model they were measured on).
        self._measuring_for: dict[str, Any] | None = None
        self.vary_buttons: dict[str, VaryButton] = {}
        self._make_fields()
        self._make_fine_tuning_fields()
        self._lay_out()
        self._connect()

    def _make_fields(self) -> None:
        self.optimizer = _combo(list(OPTIMIZERS))
        self.learning_rate = _real(1e-6, 10.0, 6, 0.0005)
        self.schedule = QComboBox()
        for kind in SCHEDULES:
            self.schedule.addItem(kind, kind)
        self.schedule_factor = _real(0.01, 1.0, 3, 0.05)
        self.schedule_every = _spin(1, 10000)
        self.schedule_decay = _real(0.01, 1.0, 3, 0.01)
        self.schedule_patience = _spin(1, 1000)
        self.schedule_min_lr = _real(0.0, 1.0, 7, 1e-6)
        self.schedule_info = QLabel()  # a Keras schedule imported with a model, in words
        self.schedule_info.setObjectName("importedSchedule")
        self.schedule_info.setWordWrap(True)
        self.schedule_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.schedule_info.setToolTip("Keras's own schedule, imported with the model: choosing "
                                      "another schedule replaces it (Undo brings it back)")  # fmt: skip
        self.loss = _combo(LOSSES, editable=True)
        self.metrics = QLineEdit()
        self.metrics.setPlaceholderText("auto, or names such as accuracy, mae")
        # Keras's metrics that fit the data's task, as ticks that add or take out a name.
        self.metric_boxes = {name: QCheckBox(label) for name, label in METRIC_LABELS.items()}
        for name, box in self.metric_boxes.items():
            box.setObjectName(f"metric_{name}")
            box.setToolTip(f"Also report Keras's {name} during training")
            box.hide()  # until _show_metric_boxes offers it
        self.class_weight = QComboBox()
        for label, data in CLASS_WEIGHT_CHOICES:
            self.class_weight.addItem(label, data)
        self.class_weight.setToolTip(
            "How much each class counts in the loss: all alike, inversely to how often it "
            "occurs (Balanced), or a weight you give each class"
        )
        self.class_weight_edit = QPushButton("Edit…")
        self.class_weight_edit.setToolTip("The weight of each class")
        self.class_weight_info = QLabel()
        self.class_weight_info.setObjectName("classWeights")
        self.class_weight_info.setWordWrap(True)
        self.batch_size = _spin(1, 1 << 16)
        self.epochs = _spin(1, 100000)
        self.es_enabled = QCheckBox("Stop early when it stops improving")
        self.es_monitor = _combo(MONITORS, editable=True)
        self.es_patience = _spin(0, 1000)
        self.es_restore = QCheckBox("Keep the best weights")
        self.es_mode = QComboBox()  # which way the watched figure improves
        for mode, words in STOPPING_MODE_WORDS.items():
            self.es_mode.addItem(words, mode)
        self.es_mode.setToolTip(
            "Which way the watched figure improves. Automatic reads it from the name (loss and "
            "error go down, accuracy and AUC up); a metric of another name needs it said."
        )
        self.device = QComboBox()
        self.device.addItem("Automatic (first GPU, else CPU)", "auto")
        self.device.addItem("CPU", "cpu")
        self.mixed = QCheckBox("Mixed precision (float16 on GPUs that support it)")
        self.engine = QComboBox()
        for name in ENGINES:
            self.engine.addItem(ENGINE_LABELS[name], name)
        self.engine.setToolTip(
            "What trains the model. JAX trains in a worker process, which keeps the window "
            "responsive; Automatic measures each engine once for this model and machine."
        )
        self.measure = QPushButton("Measure")
        self.measure.setToolTip("Train a few batches with each engine and show their speeds")
        self.ranks = _spin(1, 1024)
        self.ranks.setToolTip("Train on this many machines: this one and the others, each "
                              "started with the command shown below")  # fmt: skip
        self.coordinator = QLineEdit()
        self.coordinator.setPlaceholderText("HOST:PORT of this machine, e.g. 10.0.0.5:7477")
        self.join_command = QLabel()
        self.join_command.setObjectName("joinCommand")
        self.join_command.setWordWrap(True)
        self.join_command.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.speeds = QLabel()
        self.speeds.setObjectName("engineSpeeds")
        self.speeds.setWordWrap(True)
        for label in (self.speeds, self.join_command):
            label.hide()  # no room taken until there is something to say
        self.error = _error_label("formError")
        self.options = QLineEdit()
        self.options.setPlaceholderText(f"none; e.g. {OPTIONS_EXAMPLE}")
        self.options.setToolTip(
            "Further arguments of the Keras optimizer, as name=value separated by commas "
            "(momentum, nesterov, beta_1, epsilon, clipnorm, ...)"
        )
        self.options_error = _error_label("optionsError")
        self.options_error.hide()

    def _make_fine_tuning_fields(self) -> None:
        self.ft_note = QLabel(NO_BACKBONE)
        self.ft_note.setObjectName("fineTuningNote")
        self.ft_note.setWordWrap(True)
        self.ft_enabled = QCheckBox("Freeze the backbone, then fine-tune it")
        self.ft_frozen = _spin(1, 100000)
        self.ft_frozen.setSuffix(" epochs")
        self.ft_frozen.setToolTip("Epochs that train only the layers after the backbone")
        self.ft_layers = _spin(0, 100000)
        self.ft_layers.setPrefix("top ")
        self.ft_layers.setSuffix(" layers")
        self.ft_layers.setSpecialValueText("all layers")  # 0: every layer of the backbone
        self.ft_layers.setToolTip("The backbone's last layers that train after the frozen "
                                  "epochs; 0 = all (BatchNormalization stays frozen)")  # fmt: skip
        self.ft_lr = _real(1e-8, 10.0, 8, 1e-5)
        self.ft_lr.setToolTip("The learning rate once the backbone's layers train: low, so "
                              "what they learnt before is kept")  # fmt: skip
        self.ft_error = _error_label("fineTuningError")
        self.ft_error.hide()

    def _lay_out(self) -> None:
        # The schedule's own numbers on a row of their own: beside the choice they made the
        # form wider than the Training tab's settings column.
        sched_row = QHBoxLayout()
        self._schedule_labels = {}
        for label, w in (("factor", self.schedule_factor), ("every (epochs)", self.schedule_every),
                         ("decay per epoch", self.schedule_decay),
                         ("patience", self.schedule_patience),
                         ("min lr", self.schedule_min_lr)):  # fmt: skip
            text = QLabel(label)
            self._schedule_labels[w] = text
            sched_row.addWidget(text)
            sched_row.addWidget(w)
        sched_row.addStretch(1)
        # Long names (a loss, an engine measured, a GPU) must not widen the form past the
        # settings column: that gave the Configuration tab a sideways scroll bar.
        for combo in (self.loss, self.es_monitor, self.schedule, self.engine, self.device):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(16)
        form = QFormLayout()
        form.addRow("Optimizer", self._varied("optimizer", self.optimizer))
        form.addRow("Learning rate", self._varied("learning_rate", self.learning_rate))
        form.addRow("Options", self.options)
        # The whole width under it: the core's sentence can list every argument there is.
        form.addRow(self.options_error)
        form.addRow("Schedule", self.schedule)
        form.addRow("", _stacked(sched_row, self.schedule_info))
        form.addRow("Loss", self._varied("loss", self.loss))
        # Three ticks a row: all six on one would widen the form past the settings column.
        metric_grid = QGridLayout()
        for i, box in enumerate(self.metric_boxes.values()):
            metric_grid.addWidget(box, i // 3, i % 3)
        form.addRow("Metrics", _stacked(self.metrics, metric_grid))
        weight_row = QHBoxLayout()
        weight_row.addWidget(self.class_weight, 1)
        weight_row.addWidget(self.class_weight_edit)
        form.addRow("Class weights", _stacked(weight_row, self.class_weight_info))
        form.addRow("Batch size", self._varied("batch_size", self.batch_size))
        form.addRow("Epochs", self._varied("epochs", self.epochs))
        es = QGroupBox("Early stopping")
        es_form = QFormLayout(es)
        es_form.addRow(self.es_enabled)
        es_form.addRow("Watch", self.es_monitor)
        es_form.addRow("Patience (epochs)", self.es_patience)
        es_form.addRow("Better when", self.es_mode)
        es_form.addRow(self.es_restore)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(es)
        layout.addWidget(self._fine_tuning_group())
        layout.addWidget(self._hardware_group())
        layout.addWidget(self.error)
        layout.addStretch(1)

    def _varied(self, key: str, field: QWidget) -> QWidget:
        """`field` with its ⟳ button after it (a field a sweep can vary)."""
        row, button = with_vary_button(field)
        button.clicked.connect(lambda _=False: self.vary_requested.emit(key))
        self.vary_buttons[key] = button
        return row

    def show_marks(self, marks: Callable[[str], tuple[str | None, str | None]]) -> None:
        """Each ⟳ button as the project's marks have it (`marks(field)`: its SPEC and the
        sentence refusing it now, or (None, None))."""
        for key, button in self.vary_buttons.items():
            button.show_mark(*marks(key))

    def _fine_tuning_group(self) -> QGroupBox:
        self.ft_group = QGroupBox("Fine-tune the backbone")
        box = QFormLayout(self.ft_group)
        box.addRow(self.ft_note)
        box.addRow(self.ft_enabled)
        box.addRow("Frozen for", self.ft_frozen)
        box.addRow("Then unfreeze", self.ft_layers)
        box.addRow("At learning rate", self.ft_lr)
        box.addRow(self.ft_error)
        return self.ft_group

    def _hardware_group(self) -> QGroupBox:
        hw = QGroupBox("Hardware")
        hw_form = QFormLayout(hw)
        engine_row = QHBoxLayout()
        engine_row.addWidget(self.engine, 1)
        engine_row.addWidget(self.measure)
        hw_form.addRow("Engine", engine_row)
        hw_form.addRow(self.speeds)
        hw_form.addRow("Device", self.device)
        hw_form.addRow(self.mixed)
        hw_form.addRow("Machines", self.ranks)
        hw_form.addRow("Listen on", self.coordinator)
        hw_form.addRow(self.join_command)
        return hw

    def _connect(self) -> None:
        self.optimizer.currentIndexChanged.connect(self._optimizer_changed)
        for w in (self.schedule, self.device, self.engine, self.es_monitor, self.es_mode,
                  self.loss):  # fmt: skip
            w.currentIndexChanged.connect(self._write)
        self.measure.clicked.connect(self._ask_to_measure)
        for w in (self.loss, self.es_monitor):
            w.lineEdit().editingFinished.connect(self._write)
        for line in (self.metrics, self.coordinator, self.options):
            line.editingFinished.connect(self._write)
        for w in (self.learning_rate, self.schedule_factor, self.schedule_decay, self.batch_size,
                  self.epochs, self.es_patience, self.schedule_every, self.schedule_patience,
                  self.schedule_min_lr, self.ranks, self.ft_frozen, self.ft_layers,
                  self.ft_lr):  # fmt: skip
            w.valueChanged.connect(self._write)
        for w in (self.es_enabled, self.es_restore, self.mixed, self.ft_enabled):
            w.toggled.connect(self._write)
        for name, box in self.metric_boxes.items():
            box.toggled.connect(functools.partial(self._metric_ticked, name))
        self.class_weight.currentIndexChanged.connect(self._class_weight_chosen)
        self.class_weight_edit.clicked.connect(self._edit_class_weights)

    # ------------------------------------------------------------------ devices
    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """Add detected devices: (spec, label), e.g. ("gpu:0", "GPU 0: NVIDIA H100 (80 GB)")."""
        current = self.training.get("device", TrainingConfig.device)
        self._loading = True
        for spec, label in devices:
            if self.device.findData(spec) < 0:
                self.device.addItem(label, spec)
        self._select_device(current)
        self._loading = False
        self._shown = self.values()

    def _select_device(self, spec: str) -> None:
        i = self.device.findData(spec)
        if i < 0:
            self.device.addItem(spec, spec)
            i = self.device.count() - 1
        self.device.setCurrentIndex(i)

    def _show_cluster(self, cfg: TrainingConfig) -> None:
        """With several machines: where this one listens, and what to type on the others
        (the core's own command line). JAX trains such a run whatever the engine choice, or
        TensorFlow for a model JAX cannot train, which is for trusted networks only."""
        several = cfg.ranks > 1
        self.coordinator.setEnabled(several)
        self.engine.setEnabled(not several)
        self.measure.setEnabled(not several)
        if not several:
            _say(self.join_command, "")
            return
        cluster = make_cluster(cfg.coordinator, cfg.ranks)
        commands = "\n".join(cluster.command_for(r) for r in range(1, cluster.world))
        port = int(cluster.coordinator.rsplit(":", 1)[1])
        _say(
            self.join_command,
            f"JAX trains it on {cluster.world} machines. On each of the others, run:\n"
            f"{commands}\nA model JAX cannot train is trained by TensorFlow instead, on ports "
            f"{port + 1}+rank too. {TRUSTED_ONLY}",
        )

    # ------------------------------------------------------------------ engines
    def _ask_to_measure(self) -> None:
        self.measure.setEnabled(False)
        self._measuring_for = self.training
        _say(self.speeds, "Measuring each engine on a few batches of this model…")
        self.measure_requested.emit()

    def clear_speeds(self) -> None:
        """No measurement shown: the engines by their names alone, Measure offered."""
        self._measuring_for = None
        for i in range(self.engine.count()):
            self.engine.setItemText(i, ENGINE_LABELS[self.engine.itemData(i)])
        _say(self.speeds, "")
        self.measure.setEnabled(self.ranks.value() <= 1)

    def show_speeds(self, measured: Measurement | None, message: str = "") -> None:
        """The measured samples/s beside each engine's name, and what Automatic would take for
        this run, so the choice is one click. An answer for a project no longer shown is
        dropped."""
        if self._measuring_for is not self.training:
            return
        self.measure.setEnabled(self.ranks.value() <= 1)
        if measured is None:
            _say(self.speeds, message)
            return
        speeds = measured.speeds
        for i in range(self.engine.count()):
            name = self.engine.itemData(i)
            label = ENGINE_LABELS[name]
            if name == "auto":
                label += f": {ENGINE_LABELS[measured.auto]}"
            elif speeds.get(name, 0) > 0:
                label += f" · {speeds[name]:,.0f}/s"
            elif name in speeds:
                label += " · cannot train this model"
            self.engine.setItemText(i, label)
        # The core's sentence: what auto compared (each engine's whole run) and why.
        _say(self.speeds, f"{speeds_sentence(speeds)} {_capitalised(measured.note)}.")

    # ------------------------------------------------------------------ model -> form
    def _field_views(self) -> dict[str, Callable[[TrainingConfig, dict, set[str]], None]]:
        """Each field of the training dict and what shows it: (the core's reading, the dict as
        the project has it, the fields the core refused) -> its widgets set. The options line
        shows the optimizer's own fields and its options; choosing another optimizer, too."""
        return {
            "optimizer": self._show_optimizer,
            **dict.fromkeys(OPTION_FIELDS, self._show_options),
            "learning_rate": lambda cfg, _raw, _r: self.learning_rate.setValue(cfg.learning_rate),
            "schedule": self._load_schedule,
            "loss": self._show_loss,
            "metrics": self._show_metrics,
            "class_weight": self._show_class_weight,
            "batch_size": lambda cfg, _raw, _r: self.batch_size.setValue(cfg.batch_size),
            "epochs": lambda cfg, _raw, _r: self.epochs.setValue(cfg.epochs),
            "early_stopping": self._show_early_stopping,
            "fine_tuning": self._load_fine_tuning,
            "device": lambda cfg, _raw, _r: self._select_device(cfg.device),
            "engine": lambda cfg, _raw, _r: self.engine.setCurrentIndex(
                max(0, self.engine.findData(cfg.engine))
            ),
            "mixed_precision": lambda cfg, _raw, _r: self.mixed.setChecked(cfg.mixed_precision),
            "ranks": lambda cfg, _raw, _r: self.ranks.setValue(cfg.ranks),
            "coordinator": lambda cfg, _raw, _r: set_text(self.coordinator, cfg.coordinator),
        }

    def load(self, training: dict[str, Any]) -> None:
        """Show `training` (the project's own dict; read only, never written here)."""
        if training is not self.training:
            self.clear_speeds()  # another project: the last one's measurement is not its own
        self.training = training
        raw = training if isinstance(training, dict) else {}
        cfg, refused, problem = read_leniently(training)
        self._loading = True
        try:
            for show in dict.fromkeys(self._field_views().values()):  # each once, in order
                show(cfg, raw, refused)
        finally:
            self._loading = False
        # What the form shows now: an edit sends only the fields that differ from it (a file
        # without some settings must not have them all written by the first edit).
        self._shown = self.values()
        self._show_state(cfg, problem)

    def show_field(self, training: dict[str, Any], key: str) -> None:
        """One field of the project's training settings changed (an undo, a remedy): its own
        widgets show it; every other widget keeps what it shows, a line being typed in too.
        The sentences and the enabled fields follow the whole of the settings."""
        if training is not self.training:
            self.load(training)  # another dict: nothing the form shows is known to hold
            return
        cfg, refused, problem = read_leniently(training)
        show = self._field_views().get(key)  # None: a field the form has no widget for
        if show is not None:
            self._loading = True
            try:
                show(cfg, training, refused)
            finally:
                self._loading = False
            self._shown = shown_after(self._shown, self.values(), {key})
        self._show_state(cfg, problem)

    def graph_changed(self) -> None:
        """The network changed: fine-tuning is offered when it holds a backbone."""
        self._show_fine_tuning_state(self.ft_enabled.isChecked())

    def _show_state(self, cfg: TrainingConfig, problem: str) -> None:
        """What follows from all the settings rather than one: the fields the schedule uses, the
        machines' commands, whether fine-tuning is offered, the core's sentence."""
        self._enable_schedule_fields(self.schedule.currentData())
        self._show_cluster(cfg)
        self._show_fine_tuning_state(self.ft_enabled.isChecked())
        self._show_problem(problem)

    def _show_optimizer(self, cfg: TrainingConfig, raw: dict, refused: set[str]) -> None:
        self.optimizer.setCurrentText(cfg.optimizer)
        self._show_options(cfg, raw, refused)

    def _show_options(self, cfg: TrainingConfig, raw: dict, _refused: set[str]) -> None:
        set_text(self.options, options_text(raw, cfg.optimizer))

    def _show_early_stopping(self, cfg: TrainingConfig, _raw: dict, _refused: set[str]) -> None:
        stopping = cfg.early_stopping
        self.es_enabled.setChecked(stopping.enabled)
        set_text(self.es_monitor, stopping.monitor)
        self.es_patience.setValue(stopping.patience)
        self.es_restore.setChecked(stopping.restore_best_weights)
        self.es_mode.setCurrentIndex(max(0, self.es_mode.findData(stopping.mode)))

    def _load_schedule(self, cfg: TrainingConfig, raw: dict, refused: set[str]) -> None:
        self._offer_imported_schedule(raw)
        kind = cfg.schedule.kind
        if "schedule" in refused:  # shown as the project has it, beside the core's sentence
            kind = _dict_at(raw, "schedule").get("kind", kind)
        self.schedule.setCurrentIndex(max(0, self.schedule.findData(kind)))
        self.schedule_factor.setValue(cfg.schedule.factor)
        self.schedule_every.setValue(cfg.schedule.every_epochs)
        self.schedule_decay.setValue(cfg.schedule.decay_rate)
        self.schedule_patience.setValue(cfg.schedule.patience)
        self.schedule_min_lr.setValue(cfg.schedule.min_learning_rate)

    def _offer_imported_schedule(self, raw: dict) -> None:
        """An entry in the schedule choice for a Keras schedule the project keeps, also while
        another kind is chosen (the core keeps its config then): choosing it brings it back."""
        i = self.schedule.findData(KERAS_SCHEDULE)
        if i >= 0:
            self.schedule.removeItem(i)
        config = _dict_at(raw, "schedule").get("config")
        if is_serialized(config):
            self.schedule.addItem(f"{config['class_name']} (imported)", KERAS_SCHEDULE)

    # Settings per output (a dict by output name) are shown, not edited, here: the form's one
    # field cannot hold them, and an edit elsewhere must not flatten them.
    def _show_loss(self, cfg: TrainingConfig, raw: dict, _refused: set[str]) -> None:
        loss = raw.get("loss")
        self._per_output["loss"] = isinstance(loss, dict) and not is_serialized(loss)
        self._offer_kept_loss(loss if is_serialized(loss) else None)
        self.loss.setEnabled(not self._per_output["loss"])
        if self._per_output["loss"]:
            set_text(self.loss, _per_output_text(loss))
        elif self._kept_loss is not None:
            set_text(self.loss, self._kept_loss[0])
        else:
            set_text(self.loss, str(cfg.loss))

    def _show_metrics(self, cfg: TrainingConfig, raw: dict, _refused: set[str]) -> None:
        metrics = raw.get("metrics")
        self._per_output["metrics"] = isinstance(metrics, dict)
        self.metrics.setEnabled(not self._per_output["metrics"])
        if isinstance(metrics, dict):
            set_text(self.metrics, _per_output_text(metrics))
        else:
            set_text(self.metrics, "auto" if cfg.metrics == "auto" else ", ".join(cfg.metrics))
        self._show_metric_boxes(cfg.metrics if not isinstance(metrics, dict) else metrics)

    def _show_metric_boxes(self, metrics: Any) -> None:
        """A tick for each extra metric that fits the data's task (and for one the settings
        list even so, so it can be taken out), ticked where the settings list it. Until the
        data is described (its preview) every one is offered: the core refuses one that does
        not fit when training starts, in a sentence."""
        listed = {TOP_K if m == SPARSE_TOP_K else m for m in _metric_list(metrics)}
        if self.task is None:
            offered = set(self.metric_boxes)
        else:
            offered = set(metric_choices(self.task, len(self.classes)))
        for name, box in self.metric_boxes.items():
            box.blockSignals(True)
            box.setChecked(name in listed)
            box.blockSignals(False)
            box.setVisible(name in offered or name in listed)
            box.setEnabled(not self._per_output["metrics"])

    def _show_class_weight(self, cfg: TrainingConfig, raw: dict, refused: set[str]) -> None:
        value = raw.get("class_weight") if "class_weight" in refused else cfg.class_weight
        if isinstance(value, dict):
            self._weights = {str(k): v for k, v in value.items()}
            choice = PER_CLASS
        else:
            choice = value if value in ("none", "balanced") else "none"
        self.class_weight.setCurrentIndex(max(0, self.class_weight.findData(choice)))
        self._show_weights()

    def _show_weights(self) -> None:
        per_class = self.class_weight.currentData() == PER_CLASS
        self.class_weight_edit.setVisible(per_class)
        _say(self.class_weight_info, weights_text(self._weights) if per_class else "")

    def _offer_kept_loss(self, loss: dict[str, Any] | None) -> None:
        """A Keras loss object (from_logits=True, label smoothing: what no name says) becomes
        an entry of the loss choice, in words; choosing a name replaces it, choosing the entry
        again brings it back."""
        i = self.loss.findData(SERIALIZED_LOSS)
        if i >= 0:
            self.loss.removeItem(i)
        self._kept_loss = None
        if loss is not None:
            text = loss_text(loss)
            self.loss.insertItem(1, text, SERIALIZED_LOSS)
            self._kept_loss = (text, loss)

    def _load_fine_tuning(self, cfg: TrainingConfig, raw: dict, refused: set[str]) -> None:
        fine = _fine_tuning_as_written(raw) if "fine_tuning" in refused else cfg.fine_tuning
        self.ft_enabled.setChecked(fine.enabled)
        self.ft_frozen.setValue(fine.frozen_epochs)
        self.ft_layers.setValue(fine.unfreeze_layers)
        self.ft_lr.setValue(fine.learning_rate)

    def _show_fine_tuning_state(self, enabled: bool) -> None:
        """Fine-tuning is offered when the network holds a backbone; turned on without one
        (the backbone deleted since), the group stays usable so it can be turned off."""
        available = holds_backbone(self.get_graph())
        self.ft_group.setEnabled(available or enabled)
        self.ft_note.setText(WITH_BACKBONE if available else STRANDED if enabled else NO_BACKBONE)

    def _enable_schedule_fields(self, kind: str) -> None:
        """Show only the fields the chosen schedule uses (keeps the form narrow)."""
        for w, used in ((self.schedule_factor, kind in ("step", "plateau")),
                        (self.schedule_every, kind == "step"),
                        (self.schedule_decay, kind == "exponential"),
                        (self.schedule_patience, kind == "plateau"),
                        (self.schedule_min_lr, kind in ("cosine", "plateau"))):  # fmt: skip
            w.setEnabled(used)
            w.setVisible(used)
            self._schedule_labels[w].setVisible(used)
        # An imported Keras schedule sets the rate itself: the field shows its rate at step 0.
        imported = kind == KERAS_SCHEDULE
        self.learning_rate.setEnabled(not imported)
        self.learning_rate.setToolTip(
            "Set by the imported schedule: its rate at the first step" if imported else ""
        )
        config = _dict_at(self.training, "schedule").get("config")
        words = ""
        if imported and is_serialized(config):
            words = f"{schedule_text(config)}, counted in optimizer steps."
        _say(self.schedule_info, words)

    def _show_problem(self, message: str) -> None:
        """The core's sentence beside the field it names (the options line, the fine-tuning
        group), else below the form; an options line that cannot be read says so first."""
        field = field_of(message)
        beside = field in OPTION_FIELDS or field == "fine_tuning"
        _say(
            self.options_error, self._options_problem or (message if field in OPTION_FIELDS else "")
        )
        _say(self.ft_error, message if field == "fine_tuning" else "")
        self.error.setText("" if beside else message)

    # ------------------------------------------------------------------ form -> model
    def values(self) -> dict[str, Any]:
        """The form as a training dict (only the keys it edits; REMOVE for a key it takes out)."""
        metrics_text = self.metrics.text().strip()
        metrics: Any = (
            "auto"
            if metrics_text in ("", "auto")
            else [m.strip() for m in metrics_text.split(",") if m.strip()]
        )
        if self._per_output["metrics"]:  # per output: kept as the project has them
            metrics = self.training.get("metrics")
        optimizer = self.optimizer.currentText()
        return {
            "optimizer": optimizer,
            "learning_rate": round(self.learning_rate.value(), 8),
            **self._optimizer_settings(optimizer),
            "schedule": {
                **_dict_at(self.training, "schedule"),  # an imported schedule's config stays
                "kind": self.schedule.currentData(),
                "factor": self.schedule_factor.value(),
                "every_epochs": self.schedule_every.value(),
                "decay_rate": self.schedule_decay.value(),
                "patience": self.schedule_patience.value(),
                "min_learning_rate": self.schedule_min_lr.value(),
            },  # fmt: skip
            "loss": self._loss_value(),
            "metrics": metrics,
            "class_weight": self._class_weight_value(),
            "batch_size": self.batch_size.value(),
            "epochs": self.epochs.value(),
            "early_stopping": self._early_stopping_value(),
            "fine_tuning": {
                **_dict_at(self.training, "fine_tuning"),
                "enabled": self.ft_enabled.isChecked(),
                "frozen_epochs": self.ft_frozen.value(),
                "unfreeze_layers": self.ft_layers.value(),
                "learning_rate": round(self.ft_lr.value(), 10),
            },  # fmt: skip
            "device": self.device.currentData() or TrainingConfig.device,
            "engine": self.engine.currentData() or TrainingConfig.engine,
            "ranks": self.ranks.value(),
            "coordinator": self.coordinator.text().strip(),
            "mixed_precision": self.mixed.isChecked(),
        }

    def _class_weight_value(self) -> str | dict[str, float]:
        choice = self.class_weight.currentData()
        return dict(self._weights) if choice == PER_CLASS else choice

    # ------------------------------------------------------------------ data facts
    def set_data(self, task: str | None, classes: list[str]) -> None:
        """The loaded data's task and class names (None: not known): which metrics are offered
        and which classes the per-class table lists."""
        self.task, self.classes = task, [str(c) for c in classes]
        self._show_metric_boxes(self.values()["metrics"])

    def _metric_ticked(self, name: str, ticked: bool) -> None:
        """A tick adds its metric to the list (the task's own metric first, where the setting
        was "auto") or takes it out; the metrics line shows the list, sent as one edit."""
        if self._loading:
            return
        current = self.values()["metrics"]
        if current == "auto":
            current = ["mae"] if self.task == "regression" else ["accuracy"]
        gone = {name, SPARSE_TOP_K} if name == TOP_K else {name}
        names = [m for m in _metric_list(current) if m not in gone]
        if ticked:
            names.append(name)
        self.metrics.setText(", ".join(names) or "auto")
        self._write()

    def _class_weight_chosen(self, *_args) -> None:
        if self._loading:
            return
        if self.class_weight.currentData() == PER_CLASS:
            self._edit_class_weights()  # sent once the table is accepted
            return
        self._show_weights()
        self._write()

    def _edit_class_weights(self) -> None:
        """The table of a weight per class; accepted, it is one edit; cancelled, the choice
        goes back to what the project holds."""
        dialog = ClassWeightsDialog(self.classes, self._weights, self)
        self.class_weight_dialog = dialog
        dialog.accepted.connect(lambda: self._class_weights_given(dialog))
        dialog.rejected.connect(lambda: self._class_weights_dropped(dialog))
        dialog.open()

    def _class_weights_given(self, dialog: ClassWeightsDialog) -> None:
        self.class_weight_dialog = None
        self._weights = dialog.weights()
        self._select_class_weight(PER_CLASS)
        self._write()

    def _class_weights_dropped(self, dialog: ClassWeightsDialog) -> None:
        self.class_weight_dialog = None
        shown = self._shown.get("class_weight", TrainingConfig.class_weight)
        if isinstance(shown, dict):
            self._weights = dict(shown)
        self._select_class_weight(PER_CLASS if isinstance(shown, dict) else shown)

    def _select_class_weight(self, choice: str) -> None:
        self._loading = True
        try:
            self.class_weight.setCurrentIndex(max(0, self.class_weight.findData(choice)))
        finally:
            self._loading = False
        self._show_weights()

    def _loss_value(self) -> Any:
        if self._per_output["loss"]:
            return self.training.get("loss")
        text = self.loss.currentText().strip() or TrainingConfig.loss
        if self._kept_loss is not None and text == self._kept_loss[0]:
            return self._kept_loss[1]  # the Keras loss object, as the project has it
        return text

    def _optimizer_settings(self, optimizer: str) -> dict[str, Any]:
        """The options line as the fields it sets: the optimizer's own (REMOVE when not given:
        the core's default) and optimizer_options. While the line cannot be read, what was
        last shown stands."""
        try:
            given = parse_options(self.options.text())
        except ValueError as exc:
            self._options_problem = str(exc)
            return {k: self._shown[k] for k in OPTION_FIELDS if k in self._shown}
        self._options_problem = ""
        own = {k: given.pop(k, REMOVE) for k in OWN_FIELDS.get(optimizer, ())}
        return {**own, "optimizer_options": given or REMOVE}

    def _optimizer_changed(self, *_args) -> None:
        if self._loading:
            return
        # The line shows the new optimizer's own fields as the project has them: sgd's
        # momentum stays in the project under nadam (which ignores it), so switching back
        # finds it again.
        settings = applied(self.training, self._shown)
        self.options.setText(options_text(settings, self.optimizer.currentText()))
        self._write()

    def _early_stopping_value(self) -> dict[str, Any]:
        stopping = {
            **_dict_at(self.training, "early_stopping"),
            "enabled": self.es_enabled.isChecked(),
            "monitor": self.es_monitor.currentText().strip() or EarlyStopping.monitor,
            "patience": self.es_patience.value(),
            "restore_best_weights": self.es_restore.isChecked(),
        }
        mode = self.es_mode.currentData()
        if mode != EarlyStopping.mode or "mode" in stopping:  # the default stays out of files
            stopping["mode"] = mode
        return stopping

    def _write(self, *_args) -> None:
        if self._loading:
            return
        new = self.values()
        self._enable_schedule_fields(new["schedule"]["kind"])
        self._show_metric_boxes(new["metrics"])
        try:
            cfg = parse_training(applied(self.training, new))
        except TrainingError as exc:
            self._show_problem(str(exc))
        else:
            self._show_problem("")
            self._show_cluster(cfg)
        self._show_fine_tuning_state(new["fine_tuning"]["enabled"])
        # Only what differs from what the form showed; taking out a key the project lacks is
        # no change.
        changes = {k: v for k, v in new.items()
                   if self._shown.get(k) != v and not (v is REMOVE and k not in self.training)}  # fmt: skip
        self._shown = new
        if changes:
            self.edited.emit(changes)


def _capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]
