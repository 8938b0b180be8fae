"""The bad-input corpus: builders of hostile and careless inputs per family (cases.py) and the
runner that feeds each one to the `deepgui` command line and judges what came back
(runner.py). tests/test_bad_input.py runs it."""
