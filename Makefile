# Everything a fresh machine needs, from python3 and make alone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-fast test-busy test-backbones test-installer lint bench screenshots installer clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,lint,export]"
	touch $(STAMP)

# Opens the app on the bundled digits example, which trains as it is (F5).
run: $(STAMP)
	$(BIN)/deepgui resources/examples/digits_cnn.dgproj

# The whole test suite, core and UI (UI offscreen, no display needed), on two pytest workers;
# each takes whole files, so a module's shared runs are trained once.
PARALLEL ?= -n 2 --dist loadfile
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -q -p no:cacheprovider $(PARALLEL) $(PYTEST_ARGS)

# The inner loop: the suite without the tests marked slow (real training in subprocesses).
test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -q -p no:cacheprovider $(PARALLEL) -m "not slow" $(PYTEST_ARGS)

# The whole suite while a CPU-bound process per core keeps the machine busy: time bounds in
# the tests must hold on a loaded CI machine too.
test-busy: $(STAMP)
	$(BIN)/python scripts/busy_machine.py $(MAKE) test

# Four Keras Applications backbones (MobileNetV3Small, ConvNeXtTiny, EfficientNetV2B0,
# ResNet50V2) imported, fine-tuned and exported to .keras, ONNX and TFLite (about 8 minutes).
test-backbones: $(STAMP)
	QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2 DEEPGUI_TEST_BACKBONES=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_start_from_existing.py -k "fine_tunes or keras_counts"

# Builds the desktop bundle (about 2.5 min, 1.5 GB) and smoke-tests it: examples, train, export, window.
test-installer: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[export,installer]"
	QT_QPA_PLATFORM=offscreen DEEPGUI_TEST_INSTALLER=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_installer.py

lint: $(STAMP)
	$(BIN)/ruff check deepgui tests benchmarks scripts
	$(BIN)/ruff format --check deepgui tests benchmarks scripts
	$(BIN)/lint-imports

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python $$b || exit 1; done

# The main views (empty, building, training, overfitting banner, evaluation, export, dark, a
# project reopened) at 1366x768 and 2560x1440, the data panel, transfer learning, the run
# diff, marks and the Sweep tab, activations and explanations, in screenshots/<size>/
# (`scripts/screenshots.py --part NAME` takes one part; --help lists them).
# Runs under its own Xvfb (apt-get install xvfb and the xcb libraries named in the script).
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

installer: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[export,installer]"
	$(BIN)/pyinstaller --noconfirm installer/deepgui.spec

clean:
	rm -rf $(VENV) build dist .pytest_cache
